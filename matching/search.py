"""Exact top-k face search over a large gallery, with a compact in-memory layout.

Why exact: an approximate index loses recall, and nothing guarantees those losses fall evenly
across demographic groups (docs/matching.md, "Search and evaluation"). Why not a plain float32
scan: at 2.5 million faces one float32 pass reads 1.28 GB, so memory bandwidth, not arithmetic,
sets the latency. This module scans 8-bit codes instead (a quarter of the bytes) and then
re-ranks the few survivors on the float32 descriptors, with a bound that makes the result
*identical* to the float32 brute-force top k.

The bound. Each descriptor ``x`` is stored as ``x̂ = s·c`` (``c`` int8, one scale ``s`` per
face) with error ``e = x − x̂`` and ``‖e‖ ≤ E`` over the shard. The probe ``q`` is rounded to
the int8 grid of its own largest component, ``q̃``. Then

    ‖q − x‖² = ‖q‖² + ‖x‖² − 2 q̃·x̂ − 2 (q − q̃)·x̂ − 2 q·e
             ≥ ‖q‖² + (‖x‖² − 2 q̃·x̂) − slack,
    slack = 2 (‖q − q̃‖·max‖x̂‖ + ‖q‖·E + max|q̃|/254 · √d · max‖x̂‖) + margin,

where the third term covers ONNX Runtime's own rounding of the probe to int8 should it ever
differ from ours, and ``margin`` covers float32 rounding. ONNX Runtime's ``MatMulNBits``
(int8 compute) produces ``‖x‖² − 2 q̃·x̂`` for every face in one bandwidth-bound pass. Any face
whose lower bound exceeds the exact k-th distance of some k real faces cannot be in the top k,
so only faces under ``τ + slack`` are re-ranked exactly. Ties are broken by item id.

Sharding. A ``GalleryShard`` is self-contained (its codes, its exact store, its ONNX session),
so shards can live in different processes or machines; each returns its exact local top k and
``results_merge`` combines them into the exact global top k.

The float32 descriptors (the exact store) are read only for survivors, a few hundred rows a
search, so they can be an ``np.memmap`` on disk: the resident scan structure is
``bytes_per_face`` (136 bytes plus the 8-byte id, against 512 for float32).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

__all__ = [
    "GalleryIndex",
    "GalleryShard",
    "SearchResult",
    "exact_distances",
    "results_merge",
]

_CODE_MAX = 127
# Absolute allowance on squared distances for float32 rounding in the scan (values are O(1)).
_ROUNDING_MARGIN = 1e-4
# The sample that sets the first threshold: one face in _SAMPLE_STRIDE, aiming for about
# _CANDIDATES_PER_K·k candidates, so the exact k-th distance usually falls inside them.
_SAMPLE_STRIDE = 16
_CANDIDATES_PER_K = 16


@dataclass(frozen=True)
class SearchResult:
    """The exact top k: item ids and Euclidean distances, nearest first (ties by id).

    ``scanned`` is how many faces the coarse pass covered and ``reranked`` how many were
    compared exactly; both are for monitoring, not for decisions.
    """

    ids: tuple[int, ...]
    distances: tuple[float, ...]
    scanned: int = 0
    reranked: int = 0


def exact_distances(
    *, descriptors: npt.NDArray[Any], probe: npt.NDArray[Any]
) -> npt.NDArray[np.float64]:
    """Squared Euclidean distances of float32 rows to the probe, computed in float64.

    The reference every search is measured against: float64 accumulation so that the order
    of two faces does not depend on summation order.
    """
    diff = np.asarray(descriptors, dtype=np.float64) - np.asarray(probe, dtype=np.float64)
    return np.einsum("ij,ij->i", diff, diff)


def _topk_order(
    ids: npt.NDArray[np.int64], sq: npt.NDArray[np.float64], k: int
) -> npt.NDArray[np.intp]:
    """Positions of the k smallest squared distances, ordered by (distance, id)."""
    return np.lexsort((ids, sq))[:k]


def _quantize_rows(
    rows: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Symmetric int8 codes with one scale per row (zero rows get scale 1, codes 0)."""
    amax = np.abs(rows).max(axis=1)
    scale = np.where(amax > 0, amax / _CODE_MAX, 1.0).astype(np.float32)
    codes = np.clip(np.rint(rows / scale[:, None]), -_CODE_MAX, _CODE_MAX).astype(np.int8)
    return codes, scale


def _block_size(dim: int) -> int:
    for size in (128, 64, 32, 16):
        if dim % size == 0:
            return size
    raise ValueError(f"descriptor length {dim} must be a multiple of 16")


def _scan_session(
    *,
    codes: npt.NDArray[np.int8],
    scale: npt.NDArray[np.float32],
    norms: npt.NDArray[np.float32],
    threads: int,
) -> Any:
    """An ONNX graph computing ``‖x‖² − 2 q·x̂`` for every face: one MatMulNBits node.

    The per-face scale is stored as ``−2s`` and the squared norms as the bias, so the kernel
    writes the value the threshold needs directly, with no further pass over the gallery.
    """
    count, dim = codes.shape
    block = _block_size(dim)
    blocks = dim // block
    packed = (codes.astype(np.int16) + 128).astype(np.uint8).reshape(count, blocks, block)
    scales = np.repeat((-2.0 * scale).astype(np.float32), blocks)
    node = helper.make_node(
        "MatMulNBits",
        ["probe", "codes", "scales", "", "", "norms"],
        ["lower"],
        domain="com.microsoft",
        K=dim,
        N=count,
        bits=8,
        block_size=block,
        accuracy_level=4,  # int8 compute: the pass stays bound by memory, not arithmetic
    )
    graph = helper.make_graph(
        [node],
        "gallery_scan",
        [helper.make_tensor_value_info("probe", TensorProto.FLOAT, [1, dim])],
        [helper.make_tensor_value_info("lower", TensorProto.FLOAT, [1, count])],
        [
            numpy_helper.from_array(packed, "codes"),
            numpy_helper.from_array(scales, "scales"),
            numpy_helper.from_array(norms.astype(np.float32), "norms"),
        ],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # No busy-waiting: searches are sporadic, and spinning threads measured slower on a shared
    # 2-core machine while taking cores from the web process and the NumPy/BLAS work around them.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


@dataclass(eq=False)
class GalleryShard:
    """One shard of the gallery: int8 codes in memory, float32 descriptors as the exact store.

    Build it with ``GalleryShard.build``; it is immutable afterwards (a new gallery snapshot
    builds new shards). Faces removed since the build are passed to ``search`` as
    ``excluded`` ids, so a removal takes effect at once without a rebuild.
    """

    ids: npt.NDArray[np.int64]
    descriptors: npt.NDArray[Any]
    scale: npt.NDArray[np.float32]
    norms: npt.NDArray[np.float32]
    error_max: float
    decoded_norm_max: float
    session: Any = field(repr=False)

    @classmethod
    def build(
        cls, *, ids: npt.ArrayLike, descriptors: npt.NDArray[Any], threads: int = 1
    ) -> GalleryShard:
        """Quantize the descriptors and prepare the scan. ``descriptors`` is kept, not copied.

        ``descriptors`` may be an ``np.memmap`` of a float32 file: it is read once here to
        build the codes, then only survivor rows are read per search.
        """
        id_array = np.asarray(ids, dtype=np.int64)
        if descriptors.ndim != 2 or descriptors.shape[0] != id_array.shape[0]:
            raise ValueError("descriptors must be a (faces, dimensions) array, one row per id")
        if id_array.size and np.unique(id_array).size != id_array.size:
            raise ValueError("item ids must be unique within a shard")
        count, dim = descriptors.shape
        codes = np.empty((count, dim), dtype=np.int8)
        scale = np.empty(count, dtype=np.float32)
        norms = np.empty(count, dtype=np.float32)
        error_max = 0.0
        decoded_max = 0.0
        for start in range(0, count, 65536):  # bounded temporaries for a 2.5M-row build
            rows = np.asarray(descriptors[start : start + 65536], dtype=np.float32)
            chunk_codes, chunk_scale = _quantize_rows(rows)
            decoded = chunk_codes.astype(np.float32) * chunk_scale[:, None]
            err = rows.astype(np.float64) - decoded
            error_max = max(error_max, float(np.sqrt(np.einsum("ij,ij->i", err, err).max())))
            decoded_max = max(
                decoded_max, float(np.sqrt(np.einsum("ij,ij->i", decoded, decoded).max()))
            )
            codes[start : start + len(rows)] = chunk_codes
            scale[start : start + len(rows)] = chunk_scale
            norms[start : start + len(rows)] = np.einsum("ij,ij->i", rows, rows)
        session = (
            _scan_session(codes=codes, scale=scale, norms=norms, threads=threads) if count else None
        )
        return cls(
            ids=id_array,
            descriptors=descriptors,
            scale=scale,
            norms=norms,
            error_max=error_max,
            decoded_norm_max=decoded_max,
            session=session,
        )

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def resident_bytes(self) -> int:
        """Bytes the scan keeps in memory: codes (held by the ONNX session), scales, norms, ids."""
        dim = int(self.descriptors.shape[1]) if self.descriptors.ndim == 2 else 0
        return len(self) * dim + self.scale.nbytes + self.norms.nbytes + self.ids.nbytes

    def search(
        self, *, probe: npt.ArrayLike, k: int, excluded: Collection[int] = frozenset()
    ) -> SearchResult:
        """The exact k nearest faces of this shard, leaving out ``excluded`` item ids."""
        query = np.asarray(probe, dtype=np.float32).reshape(-1)
        if self.descriptors.ndim == 2 and query.shape[0] != self.descriptors.shape[1]:
            raise ValueError("probe length differs from the gallery's descriptor length")
        if k <= 0 or len(self) == 0:
            return SearchResult(ids=(), distances=())
        lower = self._scan(query)
        slack = self._slack(query)
        qq = float(np.dot(query.astype(np.float64), query.astype(np.float64)))
        blocked = np.fromiter(excluded, dtype=np.int64) if excluded else None
        wanted = min(
            k, len(self) - (0 if blocked is None else int(np.isin(blocked, self.ids).sum()))
        )
        if wanted <= 0:
            return SearchResult(ids=(), distances=(), scanned=len(self))
        threshold = self._first_threshold(lower, k)
        while True:
            cand = self._allowed(np.flatnonzero(lower <= threshold), blocked)
            if cand.size >= wanted or threshold == np.inf:
                break
            threshold = np.inf if cand.size == 0 else threshold + max(abs(threshold), 1.0)
        sq = exact_distances(descriptors=self.descriptors[cand], probe=query)
        tau = float(np.partition(sq, wanted - 1)[wanted - 1])
        cutoff = tau - qq + slack
        if cutoff > threshold:  # the first candidates did not reach far enough: widen once
            extra = self._allowed(np.flatnonzero((lower <= cutoff) & (lower > threshold)), blocked)
            cand = np.concatenate([cand, extra])
            sq = np.concatenate(
                [sq, exact_distances(descriptors=self.descriptors[extra], probe=query)]
            )
        keep = sq <= tau
        cand, sq = cand[keep], sq[keep]
        order = _topk_order(self.ids[cand], sq, wanted)
        return SearchResult(
            ids=tuple(int(i) for i in self.ids[cand[order]]),
            distances=tuple(math.sqrt(float(d)) for d in sq[order]),
            scanned=len(self),
            reranked=int(keep.size),
        )

    def _scan(self, query: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``‖x‖² − 2 q̃·x̂`` for every face, with ``q̃`` the probe on its int8 grid."""
        rounded = _round_probe(query)
        return self.session.run(None, {"probe": rounded[None, :]})[0][0]

    def _slack(self, query: npt.NDArray[np.float32]) -> float:
        rounded = _round_probe(query).astype(np.float64)
        q64 = query.astype(np.float64)
        dim = q64.shape[0]
        amax = float(np.abs(rounded).max()) if dim else 0.0
        return (
            2.0
            * (
                float(np.linalg.norm(q64 - rounded)) * self.decoded_norm_max
                + float(np.linalg.norm(q64)) * self.error_max
                + amax / 254.0 * math.sqrt(dim) * self.decoded_norm_max
            )
            + _ROUNDING_MARGIN
        )

    def _first_threshold(self, lower: npt.NDArray[np.float32], k: int) -> float:
        """A threshold expected to admit about ``_CANDIDATES_PER_K·k`` faces, from a sample."""
        target = _CANDIDATES_PER_K * k
        if target >= lower.shape[0]:
            return float("inf")
        sample = lower[::_SAMPLE_STRIDE]
        rank = min(sample.shape[0] - 1, max(0, target // _SAMPLE_STRIDE))
        return float(np.partition(sample, rank)[rank])

    def _allowed(
        self, positions: npt.NDArray[np.intp], blocked: npt.NDArray[np.int64] | None
    ) -> npt.NDArray[np.intp]:
        if blocked is None or positions.size == 0:
            return positions
        return positions[~np.isin(self.ids[positions], blocked)]


def _round_probe(query: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The probe on the int8 grid of its largest component (what the int8 kernel sees)."""
    amax = float(np.abs(query).max()) if query.size else 0.0
    if amax == 0.0:
        return np.zeros_like(query, dtype=np.float32)
    step = np.float32(amax / _CODE_MAX)
    return (np.clip(np.rint(query / step), -_CODE_MAX, _CODE_MAX) * step).astype(np.float32)


def results_merge(*, results: Sequence[SearchResult], k: int) -> SearchResult:
    """Merge exact per-shard top-k lists into the exact global top k (ties by id).

    Each shard's list holds its k nearest, so the global k nearest are all among them.
    """
    pairs = sorted(
        (dist, item)
        for result in results
        for item, dist in zip(result.ids, result.distances, strict=True)
    )[:k]
    return SearchResult(
        ids=tuple(item for _, item in pairs),
        distances=tuple(dist for dist, _ in pairs),
        scanned=sum(r.scanned for r in results),
        reranked=sum(r.reranked for r in results),
    )


@dataclass(eq=False)
class GalleryIndex:
    """A gallery split into shards (in this process); searches every shard and merges.

    Across processes or machines, run ``GalleryShard.search`` where each shard lives and
    combine the lists with ``results_merge``: the result is the same.
    """

    shards: list[GalleryShard]

    @classmethod
    def build(
        cls,
        *,
        ids: npt.ArrayLike,
        descriptors: npt.NDArray[Any],
        shard_size: int = 4_000_000,
        threads: int = 1,
    ) -> GalleryIndex:
        """Split ``ids``/``descriptors`` into contiguous shards of at most ``shard_size`` faces."""
        id_array = np.asarray(ids, dtype=np.int64)
        if id_array.size and np.unique(id_array).size != id_array.size:
            raise ValueError("item ids must be unique within a gallery")
        starts = range(0, max(len(id_array), 1), max(shard_size, 1))
        return cls(
            shards=[
                GalleryShard.build(
                    ids=id_array[s : s + shard_size],
                    descriptors=descriptors[s : s + shard_size],
                    threads=threads,
                )
                for s in starts
            ]
        )

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    @property
    def bytes_per_face(self) -> float:
        """Resident bytes per face of the scan structure (the float32 store is not counted)."""
        total = len(self)
        return sum(s.resident_bytes for s in self.shards) / total if total else 0.0

    def search(
        self, *, probe: npt.ArrayLike, k: int, excluded: Collection[int] = frozenset()
    ) -> SearchResult:
        """The exact k nearest faces over all shards, leaving out ``excluded`` item ids."""
        return results_merge(
            results=[s.search(probe=probe, k=k, excluded=excluded) for s in self.shards], k=k
        )
