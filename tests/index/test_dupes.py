import io
import random

from PIL import Image
from skimage import data

from pixsearch.index.alignment import MAX_ASPECT_CHANGE, MAX_MISMATCH, Alignment, Thumb
from pixsearch.index.dupes import DuplicateIndex, hamming, is_near_duplicate


def test_finds_every_hash_within_the_distance() -> None:
    rng = random.Random(3)
    index = DuplicateIndex(max_distance=7)
    stored = [rng.getrandbits(64) for _ in range(5000)]
    for doc_id, value in enumerate(stored, start=1):
        index.add(value, doc_id, doc_id)
    for trial in range(300):
        target = rng.randrange(len(stored))
        bits = rng.sample(range(64), rng.randint(0, 7))
        probe = stored[target]
        for bit in bits:
            probe ^= 1 << bit
        found = index.nearest(probe)
        assert found is not None, trial
        assert found[0] <= len(bits)
        assert hamming(stored[found[1] - 1], probe) == found[0]


def test_far_hashes_are_not_duplicates_and_removed_ones_are_gone() -> None:
    index = DuplicateIndex(max_distance=6)
    index.add(0, 1, 1)
    assert index.nearest((1 << 7) - 1) is None  # distance 7
    assert index.group_for(0b111) == 1
    index.remove(1)
    assert index.nearest(0) is None


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_aligned_thumbnails_tell_a_crop_from_another_picture() -> None:
    cat = Image.fromarray(data.chelsea())
    w, h = cat.size
    corner = cat.crop((round(w * 0.05), round(h * 0.05), w, h))  # 5 % off, from a corner
    original, cropped = Thumb(_jpeg(cat)), Thumb(_jpeg(corner))
    assert Alignment(original, cropped).mismatch() <= MAX_MISMATCH
    assert Alignment(cropped, original).mismatch() <= MAX_MISMATCH  # either order
    assert Alignment(original, cropped).aspect_change <= MAX_ASPECT_CHANGE
    coffee = Thumb(_jpeg(Image.fromarray(data.coffee())))
    assert Alignment(original, coffee).mismatch() > 0.3
    half = cat.crop((w // 4, h // 4, 3 * w // 4, 3 * h // 4)).resize((w, h))  # a close-up
    assert Alignment(original, Thumb(_jpeg(half))).mismatch() > MAX_MISMATCH


def test_the_decision_with_embeddings_and_pixels() -> None:
    class Seen:
        def __init__(self, mismatch: float, aspect: float = 0.0, fine: float = 1.0) -> None:
            self.aspect_change, self._m, self._fine = aspect, mismatch, fine

        def mismatch(self) -> float:
            return self._m

        def fine_mismatch(self) -> float:
            return self._fine

    same, other = (lambda: Seen(0.01)), (lambda: Seen(0.2))

    def thin_lines() -> Seen:  # refused at 32 px, accepted where the lines survive
        return Seen(0.034, fine=0.01)

    far = (1 << 20) - 1  # 20 bits away: no hash match
    assert is_near_duplicate(0, None, 0b11, None, 6)  # hash match, pixels unknown
    assert not is_near_duplicate(0, None, 0b11, None, 6, pixels=other)  # vetoed
    assert is_near_duplicate(0, None, 0b11, None, 6, pixels=thin_lines)  # the finer look
    assert not is_near_duplicate(0, None, far, None, 6, similarity=0.95, pixels=thin_lines)
    assert not is_near_duplicate(0, None, far, None, 6, similarity=0.95)  # no pixels
    assert is_near_duplicate(0, None, far, None, 6, similarity=0.95, pixels=same)
    assert not is_near_duplicate(0, None, far, None, 6, similarity=0.95, pixels=other)
    assert not is_near_duplicate(0, None, far, None, 6, similarity=0.5, pixels=same)
    assert not is_near_duplicate(
        0, None, far, None, 6, similarity=0.95, pixels=lambda: Seen(0.01, aspect=0.2)
    )
    assert not is_near_duplicate(0, None, far, None, 6, similarity=0.95, pixels=lambda: None)


def test_group_for_tries_hash_matches_then_visual_neighbours() -> None:
    index = DuplicateIndex(max_distance=6)
    index.add(0, 1, 1)  # a sibling drawing: same hash, other pixels
    index.add((1 << 20) - 1, 2, 2)  # the original of a crop: hash far off
    verdicts = {1: 0.2, 2: 0.01}

    def verify(doc_id: int):
        class Seen:
            aspect_change = 0.0

            def mismatch(self) -> float:
                return verdicts[doc_id]

            def fine_mismatch(self) -> float:
                return verdicts[doc_id]

        return lambda: Seen()

    assert index.group_for(0b1, verify=verify) is None  # the hash match is vetoed
    assert index.group_for(0b1, verify=verify, neighbours=lambda: [(1, 0.9), (2, 0.85)]) == 2
    assert index.group_for(0b1, verify=verify, neighbours=lambda: [(2, 0.7)]) is None
    assert index.group_for(0b1) == 1  # without pixels the hash match stands
