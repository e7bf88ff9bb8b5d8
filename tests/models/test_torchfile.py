"""Reading PyTorch checkpoints without PyTorch: the zip format, and refusing foreign code."""

from __future__ import annotations

import io
import os
import pickle
import sys
import types
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from pixsearch.models.torchfile import load_state_dict


@pytest.fixture
def fake_torch(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Just enough of a "torch" module for pickle to name its globals while writing."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args: object) -> None:
        raise AssertionError("only written, never called")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage  # type: ignore[attr-defined]
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return types.SimpleNamespace(storage=FloatStorage, rebuild=_rebuild_tensor_v2)


class _Tensor:
    def __init__(self, fake: types.SimpleNamespace, key: str, offset: int, shape, stride):
        self.args = (fake, key, offset, shape, stride)

    def __reduce__(self):
        fake, key, offset, shape, stride = self.args
        return fake.rebuild, (_StorageRef(fake, key), offset, shape, stride, False, OrderedDict())


class _StorageRef:
    def __init__(self, fake: types.SimpleNamespace, key: str):
        self.fake, self.key = fake, key


class _Writer(pickle.Pickler):
    def persistent_id(self, obj: object) -> object:
        if isinstance(obj, _StorageRef):
            return ("storage", obj.fake.storage, obj.key, "cpu", 6)
        return None


def test_zip_checkpoint(tmp_path: Path, fake_torch: types.SimpleNamespace) -> None:
    data = np.arange(6, dtype=np.float32)
    state = OrderedDict(
        w=_Tensor(fake_torch, "0", 0, (2, 3), (3, 1)),
        t=_Tensor(fake_torch, "0", 0, (3, 2), (1, 3)),  # a transposed view of the same bytes
        b=_Tensor(fake_torch, "0", 4, (2,), (1,)),
    )
    buffer = io.BytesIO()
    _Writer(buffer, protocol=2).dump(state)
    path = tmp_path / "model.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", buffer.getvalue())
        archive.writestr("model/data/0", data.tobytes())
    loaded = load_state_dict(path)
    assert np.array_equal(loaded["w"], data.reshape(2, 3))
    assert np.array_equal(loaded["t"], data.reshape(2, 3).T)
    assert np.array_equal(loaded["b"], [4.0, 5.0])


def test_foreign_globals_are_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", pickle.dumps({"x": Evil()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        load_state_dict(path)
