"""Exact top-k search: the compact scan must return exactly the float64 brute-force order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import search
from matching.search import (
    _CANDIDATES_PER_K,
    GalleryIndex,
    GalleryShard,
    SearchResult,
    _quantize_rows,
    _round_probe,
    exact_distances,
    results_merge,
)

DIM = 128


def _faces(rng: np.random.Generator, count: int) -> np.ndarray:
    people = rng.standard_normal((max(1, count // 2), DIM), dtype=np.float32) * 0.05
    faces = people[rng.integers(0, len(people), count)]
    return faces + rng.standard_normal((count, DIM), dtype=np.float32) * 0.025


def _brute(ids: np.ndarray, faces: np.ndarray, probe: np.ndarray, k: int) -> list[int]:
    sq = exact_distances(descriptors=faces, probe=probe)
    return [int(i) for i in ids[np.lexsort((ids, sq))[:k]]]


@pytest.mark.parametrize(
    ("count", "k", "shard_size"), [(5000, 50, 10**6), (5000, 7, 1200), (300, 20, 64)]
)
def test_search_equals_brute_force(count: int, k: int, shard_size: int) -> None:
    rng = np.random.default_rng(count + k)
    faces = _faces(rng, count)
    ids = rng.permutation(10 * count)[:count].astype(np.int64)
    index = GalleryIndex.build(ids=ids, descriptors=faces, shard_size=shard_size)
    for row in rng.integers(0, count, 8):
        probe = faces[row] + rng.standard_normal(DIM, dtype=np.float32) * 0.02
        result = index.search(probe=probe, k=k)
        assert list(result.ids) == _brute(ids, faces, probe, k)
        expected = np.sqrt(np.sort(exact_distances(descriptors=faces, probe=probe))[:k])
        assert np.allclose(result.distances, expected, rtol=0, atol=1e-12)


def test_many_near_ties_stay_exact() -> None:
    """Faces on a thin shell around the probe: the coarse pass cannot tell them apart."""
    rng = np.random.default_rng(7)
    probe = rng.standard_normal(DIM).astype(np.float32) * 0.05
    directions = rng.standard_normal((3000, DIM))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = 0.5 + rng.random(3000) * 1e-3
    faces = (probe + directions * radii[:, None]).astype(np.float32)
    ids = np.arange(3000)
    result = GalleryIndex.build(ids=ids, descriptors=faces).search(probe=probe, k=40)
    assert list(result.ids) == _brute(ids, faces, probe, 40)
    assert result.reranked > 40  # the bound really had to re-rank beyond the k


def test_duplicate_faces_are_ordered_by_id() -> None:
    rng = np.random.default_rng(3)
    faces = _faces(rng, 200)
    faces[[10, 50, 150]] = faces[100]
    ids = np.arange(1000, 1200)
    result = GalleryIndex.build(ids=ids, descriptors=faces).search(probe=faces[100], k=4)
    assert list(result.ids[:4]) == [1010, 1050, 1100, 1150]
    assert result.distances[:4] == (0.0, 0.0, 0.0, 0.0)


def test_excluded_faces_never_return_and_the_rest_stays_exact() -> None:
    rng = np.random.default_rng(11)
    faces = _faces(rng, 4000)
    ids = np.arange(4000)
    index = GalleryIndex.build(ids=ids, descriptors=faces, shard_size=1500)
    probe = faces[123]
    first = index.search(probe=probe, k=10)
    removed = set(first.ids[:5])
    again = index.search(probe=probe, k=10, excluded=removed)
    assert not removed & set(again.ids)
    keep = np.array([i not in removed for i in ids])
    assert list(again.ids) == _brute(ids[keep], faces[keep], probe, 10)


def test_shards_searched_apart_merge_to_the_single_index_result() -> None:
    rng = np.random.default_rng(5)
    faces = _faces(rng, 3000)
    ids = np.arange(3000) * 3
    whole = GalleryIndex.build(ids=ids, descriptors=faces)
    parts = [
        GalleryShard.build(ids=ids[a:b], descriptors=faces[a:b]) for a, b in [(0, 900), (900, 3000)]
    ]
    probe = faces[2000] + 0.01
    merged = results_merge(results=[p.search(probe=probe, k=25) for p in parts], k=25)
    assert merged.ids == whole.search(probe=probe, k=25).ids


def test_small_gallery_returns_everything_and_empty_gallery_nothing() -> None:
    rng = np.random.default_rng(2)
    faces = _faces(rng, 6)
    index = GalleryIndex.build(ids=range(6), descriptors=faces)
    assert sorted(index.search(probe=faces[0], k=50).ids) == list(range(6))
    empty = GalleryIndex.build(ids=[], descriptors=np.zeros((0, DIM), np.float32))
    assert empty.search(probe=faces[0], k=5) == SearchResult(
        ids=(), distances=(), scanned=0, reranked=0
    )
    assert index.search(probe=faces[0], k=5, excluded=set(range(6))).ids == ()


def test_memory_is_at_most_half_of_float32_and_the_store_can_be_a_memmap(tmp_path) -> None:
    rng = np.random.default_rng(9)
    faces = _faces(rng, 2000)
    path = tmp_path / "faces.f32"
    stored = np.memmap(path, dtype=np.float32, mode="w+", shape=faces.shape)
    stored[:] = faces
    stored.flush()
    on_disk = np.memmap(path, dtype=np.float32, mode="r", shape=faces.shape)
    index = GalleryIndex.build(ids=np.arange(2000), descriptors=on_disk)
    assert index.bytes_per_face <= DIM * 4 / 2
    assert list(index.search(probe=faces[5], k=5).ids) == _brute(
        np.arange(2000), faces, faces[5], 5
    )


def test_invalid_galleries_and_probes_are_refused() -> None:
    faces = np.zeros((3, DIM), np.float32)
    with pytest.raises(ValueError, match="unique"):
        GalleryIndex.build(ids=[1, 1, 2], descriptors=faces)
    with pytest.raises(ValueError, match="one row per id"):
        GalleryShard.build(ids=[1, 2], descriptors=faces)
    index = GalleryIndex.build(ids=[1, 2, 3], descriptors=faces)
    with pytest.raises(ValueError, match="probe length"):
        index.search(probe=np.zeros(64, np.float32), k=1)


def _lower_bounds(shard: GalleryShard, probe: np.ndarray) -> np.ndarray:
    """The bound ``search`` relies on, for every face (the tight per-face form)."""
    query = probe.astype(np.float32)
    return shard._bounds(shard._scan(query), np.arange(len(shard)), shard._probe_terms(query))


@pytest.mark.parametrize("dim", [128, 256, 48])
def test_the_kernel_sees_the_rounded_probe(dim: int) -> None:
    """The bound assumes ONNX Runtime computes with our rounded probe q̃, unchanged.

    Checked on every face against a float64 evaluation of ``‖x‖² − 2R·ε − 2 q̃·x̂``: any
    re-rounding of its own would show as errors of a quantization step, far above this.
    """
    rng = np.random.default_rng(dim)
    faces = rng.standard_normal((2000, dim)).astype(np.float32) * np.float32(0.05)
    shard = GalleryShard.build(ids=np.arange(2000), descriptors=faces)
    codes, scale, _ = _quantize_rows(faces)
    decoded = codes.astype(np.float64) * scale[:, None].astype(np.float64)
    bias = shard.norms.astype(np.float64) - 2.0 * shard.norm_reference * shard.error
    for _ in range(5):
        probe = rng.standard_normal(dim).astype(np.float32) * np.float32(0.05)
        expected = bias - 2.0 * decoded @ _round_probe(probe).astype(np.float64)
        tolerance = 1e-6 * (np.linalg.norm(probe) + shard.norm_max) ** 2
        assert np.abs(shard._scan(probe) - expected).max() <= tolerance
        assert np.abs(_round_probe(probe) - probe).max() > 0  # the rounding is real


@pytest.mark.parametrize("probe_scale", [0.0, 0.3, 1.0, 3.0])
@pytest.mark.parametrize("face_scale", [1e-3, 1.0, 40.0])
def test_the_scan_bound_never_exceeds_the_exact_distance(
    probe_scale: float, face_scale: float
) -> None:
    """Every face, probes shorter and longer than the reference norm, galleries of any scale."""
    rng = np.random.default_rng(int(probe_scale * 10 + face_scale))
    faces = _faces(rng, 3000) * np.float32(face_scale)
    faces[:5] = 0.0  # zero rows: scale 1, codes 0
    faces[5, 0] = np.float32(face_scale)  # one spiky row: clipping chooses its scale
    shard = GalleryShard.build(ids=np.arange(3000), descriptors=faces)
    probe = (faces[100] * np.float32(probe_scale)).astype(np.float32)
    probe += rng.standard_normal(DIM).astype(np.float32) * np.float32(0.01 * face_scale)
    exact = exact_distances(descriptors=faces, probe=probe)
    assert (_lower_bounds(shard, probe) <= exact).all()
    # ...and it is far from vacuous: most faces are provably not among the 10 nearest.
    tau = np.sort(exact)[9]
    assert (_lower_bounds(shard, probe) > tau).mean() > 0.5


def test_a_large_gallery_is_mostly_pruned_and_still_exact() -> None:
    """Enough faces that the sampled first threshold, not "everything", sets the candidates."""
    rng = np.random.default_rng(17)
    faces = _faces(rng, 40_000)
    ids = rng.permutation(40_000).astype(np.int64)
    index = GalleryIndex.build(ids=ids, descriptors=faces)
    for row in (3, 999, 31_000):
        probe = faces[row] + rng.standard_normal(DIM).astype(np.float32) * 0.03
        result = index.search(probe=probe, k=20)
        assert list(result.ids) == _brute(ids, faces, probe, 20)
        assert 20 <= result.reranked < 40_000 // 10


def test_a_shell_wider_than_the_first_candidates_takes_the_second_pass() -> None:
    """All faces nearly equidistant: the survivors outnumber the first candidates."""
    rng = np.random.default_rng(23)
    probe = rng.standard_normal(DIM).astype(np.float32) * 0.05
    directions = rng.standard_normal((20_000, DIM))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    faces = (probe + directions * (0.5 + rng.random(20_000) * 1e-3)[:, None]).astype(np.float32)
    ids = np.arange(20_000)
    result = GalleryIndex.build(ids=ids, descriptors=faces).search(probe=probe, k=3)
    assert list(result.ids) == _brute(ids, faces, probe, 3)
    assert result.reranked > 3 * _CANDIDATES_PER_K  # more than the first threshold admits


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 400),
    k=st.integers(1, 60),
    duplicates=st.integers(0, 30),
    mirrored=st.booleans(),
    removed_share=st.sampled_from([0.0, 0.1, 0.9, 1.0]),
    magnitude=st.sampled_from([1e-4, 0.05, 1.0, 100.0]),
    shard_size=st.sampled_from([7, 100, 10**6]),
)
def test_any_gallery_returns_exactly_the_brute_force_top_k(
    seed: int,
    count: int,
    k: int,
    duplicates: int,
    mirrored: bool,
    removed_share: float,
    magnitude: float,
    shard_size: int,
) -> None:
    """Duplicates, exact ties (faces mirrored through the probe), removals, any scale."""
    rng = np.random.default_rng(seed)
    faces = (_faces(rng, count) * np.float32(magnitude / 0.05)).astype(np.float32)
    probe = faces[rng.integers(0, count)] + rng.standard_normal(DIM).astype(
        np.float32
    ) * np.float32(magnitude / 5)
    if duplicates:
        faces[rng.integers(0, count, duplicates)] = faces[rng.integers(0, count)]
    if mirrored and count >= 2:
        half = count // 2
        faces[half : 2 * half] = 2 * probe - faces[:half]  # ties up to float32 rounding
    ids = rng.permutation(5 * count)[:count].astype(np.int64)
    removed = {int(i) for i in ids if rng.random() < removed_share}
    index = GalleryIndex.build(ids=ids, descriptors=faces, shard_size=shard_size)
    result = index.search(probe=probe, k=k, excluded=removed)
    keep = np.array([int(i) not in removed for i in ids], dtype=bool)
    assert list(result.ids) == _brute(ids[keep], faces[keep], probe, k)
    expected = np.sqrt(np.sort(exact_distances(descriptors=faces[keep], probe=probe))[:k])
    assert np.array_equal(np.asarray(result.distances), expected)


def test_threads_searching_one_index_at_once_get_their_own_results() -> None:
    """Each thread scans into its own buffer (web workers share one index per process)."""
    rng = np.random.default_rng(29)
    faces = _faces(rng, 6000)
    ids = np.arange(6000)
    index = GalleryIndex.build(ids=ids, descriptors=faces, threads=1)
    probes = [faces[row] for row in rng.integers(0, 6000, 24)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda p: index.search(probe=p, k=5).ids, probes))
    assert [list(r) for r in results] == [_brute(ids, faces, p, 5) for p in probes]


def test_the_threshold_pass_split_over_threads_finds_the_same_faces(monkeypatch) -> None:
    monkeypatch.setattr(search, "_SPLIT_MIN", 1000)
    rng = np.random.default_rng(31)
    faces = _faces(rng, 30_001)
    ids = np.arange(30_001)
    shard = GalleryShard.build(ids=ids, descriptors=faces, threads=3)
    scan = shard._scan(faces[7])
    limit = float(np.quantile(scan, 0.01))
    assert np.array_equal(shard._at_most(scan, limit), np.flatnonzero(scan <= limit))
    result = shard.search(probe=faces[7], k=10)
    assert list(result.ids) == _brute(ids, faces, faces[7], 10)


def test_codes_are_packed_two_to_a_byte_low_nibble_first_around_zero_point_8() -> None:
    from matching.search import _nibbles_pack

    codes = np.array([[-7, 7, 0, -1], [1, -2, 3, -4]], dtype=np.int8)
    packed = _nibbles_pack(codes)
    assert packed.dtype == np.uint8
    assert packed.tolist() == [[1 | 15 << 4, 8 | 7 << 4], [9 | 6 << 4, 11 | 4 << 4]]
