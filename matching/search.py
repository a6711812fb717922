"""Exact top-k face search over a large gallery, with a compact in-memory layout.

Why exact: an approximate index loses recall, and nothing guarantees those losses fall evenly
across demographic groups (docs/matching.md, "Search and evaluation"). Why not a plain float32
scan: at 2.5 million faces one float32 pass reads 1.28 GB, so memory bandwidth, not arithmetic,
sets the latency. This module scans 4-bit codes instead (an eighth of the bytes) and then
re-ranks the few thousand survivors on the float32 descriptors, with a bound that makes the
result *identical* to the float32 brute-force top k.

The bound. Each descriptor ``x`` is stored as ``x̂ = s·c`` (``c`` in −7..7, one scale ``s`` per
face, chosen per face to make the error small) with error ``e = x − x̂``, and the *per-face*
error norm ``ε ≥ ‖e‖`` is kept. The probe ``q`` is rounded to ONNX Runtime's int8 grid (per
block of the scan, a step of ``max|q|/127``), ``q̃``, with ``ρ = ‖q − q̃‖``. By Cauchy–Schwarz,

    ‖q − x‖² = ‖q‖² + ‖x‖² − 2 q̃·x̂ − 2 (q − q̃)·x̂ − 2 q·e
             ≥ ‖q‖² + ‖x‖² − 2 q̃·x̂ − 2‖q‖·ε − 2ρ·(‖x‖ + ε) − margin,

as ``‖x̂‖ ≤ ‖x‖ + ε``; ``margin`` covers float32 rounding. A probe already on the kernel's grid
passes through its int8 quantization unchanged (a test checks this on every face), so no
further allowance for the kernel's rounding is needed. The per-face ``ε`` is what makes 4 bits
enough: with the shard's largest error in its place about 5 % of a dlib-like gallery survives;
with each face's own, about 0.2 %. ``‖q‖`` is known only at search time, so the scan folds
``‖x‖² − 2R·ε`` into the kernel's bias for a reference norm ``R`` (the gallery's median norm);
its value ``v`` then bounds every face at once with ``ε`` and ``‖x‖`` at their shard maxima
(``_ProbeTerms.loose``), and on the faces that admits the exact per-face terms are restored.
Any face whose bound exceeds the exact k-th distance of some k real faces cannot be in the top
k; every other face is re-ranked exactly. Ties go by item id.

Sharding. A ``GalleryShard`` is self-contained (its codes, its exact store, its ONNX session),
so shards can live in different processes or machines; each returns its exact local top k and
``results_merge`` combines them into the exact global top k.

The float32 descriptors (the exact store) are read only for survivors, about 5,000 rows a
search at 2.5 million, so they can be an ``np.memmap`` on disk: the resident scan structure is
``bytes_per_face``: 64 bytes of codes; the kernel's scale and bias, ε, ‖x‖² and the build's
copy of the scale, 4 each; the 8-byte id: 92, against 512 for float32.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
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

_CODE_MAX = 127  # the probe's int8 grid (what ONNX Runtime's int8 compute sees)
_FACE_CODE_MAX = 7  # 4-bit face codes, symmetric: −7..7 (MatMulNBits' zero point is 8)
# Per face, the scale is max|x|/7 times the factor among these that gives the smallest error:
# clipping the one or two largest components shrinks the step for all the others.
_CLIP_FACTORS = (1.0, 0.85, 0.7, 0.6)
# Allowance for float32 rounding in the scan and its bias, relative to (‖q‖ + max‖x‖)², the
# largest magnitude any term reaches (float32 errors are ~1e-7 of it: a wide safety factor).
_ROUNDING_MARGIN = 1e-4
# The sample that sets the first threshold: one face in _SAMPLE_STRIDE, aiming for about
# _CANDIDATES_PER_K·k candidates, which usually holds every face the shard-wide bound admits
# (about 250·k on dlib-like galleries), so the scan's output is seldom read a second time.
_SAMPLE_STRIDE = 64
_CANDIDATES_PER_K = 400
# How many of the first candidates (per k) are compared exactly to fix the threshold τ.
_TAU_FACES_PER_K = 4
_BUILD_CHUNK = 65536  # bounded temporaries for a 2.5M-row build
# Below this many faces per thread, splitting the threshold pass costs more than it saves.
_SPLIT_MIN = 500_000
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """A process-wide pool per size, for the threshold pass (threads are cheap to keep)."""
    with _POOLS_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="gallery-scan")
        return _POOLS[workers]


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
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """4-bit codes with one scale per row, and each row's error norm ``‖x − s·c‖`` (float64).

    Zero rows get scale 1 and codes 0. The error is computed from the float32 scale actually
    stored, so it is the error the scan really makes.
    """
    rows64 = rows.astype(np.float64)
    amax = np.abs(rows).max(axis=1)
    best_codes = np.zeros(rows.shape, dtype=np.int8)
    best_scale = np.ones(rows.shape[0], dtype=np.float32)
    best_error = np.sqrt(np.einsum("ij,ij->i", rows64, rows64))
    for factor in _CLIP_FACTORS:
        scale = np.where(amax > 0, amax * factor / _FACE_CODE_MAX, 1.0).astype(np.float32)
        codes = np.clip(np.rint(rows / scale[:, None]), -_FACE_CODE_MAX, _FACE_CODE_MAX)
        err = rows64 - codes * scale[:, None].astype(np.float64)
        error = np.sqrt(np.einsum("ij,ij->i", err, err))
        better = error < best_error
        best_codes[better] = codes[better]
        best_scale[better] = scale[better]
        best_error[better] = error[better]
    return best_codes, best_scale, best_error


def _round_up(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """float32 values never below the float64 ones (error norms must not shrink in storage)."""
    stored = values.astype(np.float32)
    low = stored.astype(np.float64) < values
    stored[low] = np.nextafter(stored[low], np.float32(np.inf))
    return stored


def _block_size(dim: int) -> int:
    for size in (128, 64, 32, 16):
        if dim % size == 0:
            return size
    raise ValueError(f"descriptor length {dim} must be a multiple of 16")


def _nibbles_pack(codes: npt.NDArray[np.int8]) -> npt.NDArray[np.uint8]:
    """Codes −7..7 packed two to a byte, low nibble first, with MatMulNBits' default zero point 8.

    Done chunk by chunk while the codes are made (``GalleryShard.build``), so the full int8 codes
    never exist at once: at a million faces that, and packing in uint8 rather than int16, took the
    build's peak memory from 718 MB above the descriptors to 495 MB.
    """
    nibbles = codes.view(np.uint8) + np.uint8(8)  # two's complement wraps: −7 → 1, 7 → 15
    packed: npt.NDArray[np.uint8] = nibbles[:, 0::2] | (nibbles[:, 1::2] << np.uint8(4))
    return packed


def _scan_session(
    *,
    packed: npt.NDArray[np.uint8],
    scale: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
    threads: int,
) -> Any:
    """An ONNX graph computing ``‖x‖² − 2R·ε − 2 q·x̂`` for every face: one MatMulNBits node.

    The per-face scale is stored as ``−2s`` and ``‖x‖² − 2R·ε`` as the bias, so the kernel
    writes the value the threshold needs directly, with no further pass over the gallery.
    ``packed`` holds the codes two to a byte (``_nibbles_pack``), one row of ``dim / 2`` per face.
    """
    count, half = packed.shape
    dim = 2 * half
    block = _block_size(dim)
    blocks = dim // block
    packed = packed.reshape(count, blocks, block // 2)
    scales = np.repeat((-2.0 * scale).astype(np.float32), blocks)
    node = helper.make_node(
        "MatMulNBits",
        ["probe", "codes", "scales", "", "", "bias"],
        ["lower"],
        domain="com.microsoft",
        K=dim,
        N=count,
        bits=4,
        block_size=block,
        accuracy_level=4,  # int8 compute: the pass stays bound by memory, not arithmetic
    )
    graph = helper.make_graph(
        [node],
        "gallery_scan",
        [helper.make_tensor_value_info("probe", TensorProto.FLOAT, [1, dim])],
        [helper.make_tensor_value_info("lower", TensorProto.FLOAT, [1, count])],
        [
            numpy_helper.from_array(np.ascontiguousarray(packed), "codes"),
            numpy_helper.from_array(scales, "scales"),
            numpy_helper.from_array(bias.astype(np.float32), "bias"),
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


@dataclass(frozen=True)
class _ProbeTerms:
    """What one probe contributes to the bound (module docstring).

    Per face, ``‖q−x‖² ≥ qq − margin + scan − per_error·ε − 2·rounding·‖x‖``, where
    ``per_error = 2(‖q‖ − R + ρ)`` and ``rounding = ρ = ‖q − q̃‖``. ``loose`` is what the
    last two terms and the margin cost at most over the whole shard, so
    ``qq + scan − loose`` bounds every face without reading its ``ε`` or ``‖x‖``.
    """

    qq: float
    rounding: float
    margin: float
    per_error: float
    loose: float


@dataclass(eq=False)
class GalleryShard:
    """One shard of the gallery: 4-bit codes in memory, float32 descriptors as the exact store.

    Build it with ``GalleryShard.build``; it is immutable afterwards (a new gallery snapshot
    builds new shards). Faces removed since the build are passed to ``search`` as
    ``excluded`` ids, so a removal takes effect at once without a rebuild.

    ``error`` holds each face's quantization error norm ``ε`` (rounded up), ``error_max`` its
    largest value, ``norm_reference`` the ``R`` folded into the scan's bias (see the module
    docstring); ``scale`` and ``norms`` stay for inspection, the session holds its own copies.
    """

    ids: npt.NDArray[np.int64]
    descriptors: npt.NDArray[Any]
    scale: npt.NDArray[np.float32]
    norms: npt.NDArray[np.float32]
    error_max: float
    decoded_norm_max: float
    session: Any = field(repr=False)
    error: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros(0, np.float32), repr=False
    )
    norm_reference: float = 0.0
    norm_max: float = 0.0
    # Per face (ε, ‖x‖²) side by side: the bound reads both for a candidate in one cache line.
    # ``error`` and ``norms`` are views of it when the shard comes from ``build``.
    face_terms: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, 2), np.float32), repr=False
    )
    # Each thread's output buffer and ONNX Runtime binding: the scan writes 4 bytes per face,
    # and writing into a kept buffer saves allocating and copying 10 MB per search.
    _local: threading.local = field(default_factory=threading.local, repr=False)
    threads: int = 1

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
        _block_size(dim)
        packed = np.empty((count, dim // 2), dtype=np.uint8)
        scale = np.empty(count, dtype=np.float32)
        face_terms = np.empty((count, 2), dtype=np.float32)
        error, norms = face_terms[:, 0], face_terms[:, 1]
        decoded_max = 0.0
        for start in range(0, count, _BUILD_CHUNK):
            rows = np.asarray(descriptors[start : start + _BUILD_CHUNK], dtype=np.float32)
            chunk_codes, chunk_scale, chunk_error = _quantize_rows(rows)
            decoded = chunk_codes.astype(np.float64) * chunk_scale[:, None]
            decoded_max = max(
                decoded_max, float(np.sqrt(np.einsum("ij,ij->i", decoded, decoded).max()))
            )
            stop = start + len(rows)
            packed[start:stop] = _nibbles_pack(chunk_codes)
            scale[start:stop] = chunk_scale
            norms[start:stop] = np.einsum("ij,ij->i", rows, rows)
            error[start:stop] = _round_up(chunk_error)
        reference = float(np.median(np.sqrt(norms))) if count else 0.0
        bias = (norms.astype(np.float64) - 2.0 * reference * error).astype(np.float32)
        session = (
            _scan_session(packed=packed, scale=scale, bias=bias, threads=threads) if count else None
        )
        return cls(
            ids=id_array,
            descriptors=descriptors,
            scale=scale,
            norms=norms,
            error_max=float(error.max()) if count else 0.0,
            decoded_norm_max=decoded_max,
            session=session,
            error=error,
            norm_reference=reference,
            norm_max=float(np.sqrt(norms.max())) if count else 0.0,
            face_terms=face_terms,
            threads=max(1, threads),
        )

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def resident_bytes(self) -> int:
        """Bytes the scan keeps in memory: 4-bit codes, scale and bias (held by the ONNX
        session), ε and ‖x‖², ids, and the build's scales (kept for inspection, counted too).
        Not counted: each searching thread's 4-byte-per-face output buffer."""
        dim = int(self.descriptors.shape[1]) if self.descriptors.ndim == 2 else 0
        session_bytes = len(self) * (dim // 2 + 4 + 4)
        return session_bytes + self.face_terms.nbytes + self.ids.nbytes + self.scale.nbytes

    def search(
        self, *, probe: npt.ArrayLike, k: int, excluded: Collection[int] = frozenset()
    ) -> SearchResult:
        """The exact k nearest faces of this shard, leaving out ``excluded`` item ids."""
        query = np.asarray(probe, dtype=np.float32).reshape(-1)
        if self.descriptors.ndim == 2 and query.shape[0] != self.descriptors.shape[1]:
            raise ValueError("probe length differs from the gallery's descriptor length")
        if k <= 0 or len(self) == 0:
            return SearchResult(ids=(), distances=())
        blocked = np.fromiter(excluded, dtype=np.int64) if excluded else None
        wanted = min(
            k, len(self) - (0 if blocked is None else int(np.isin(blocked, self.ids).sum()))
        )
        if wanted <= 0:
            return SearchResult(ids=(), distances=(), scanned=len(self))
        scan = self._scan(query)
        terms = self._probe_terms(query)
        qq = terms.qq
        threshold = self._first_threshold(scan, k)
        while True:
            cand = self._allowed(self._at_most(scan, threshold), blocked)
            if cand.size >= wanted or threshold == np.inf:
                break
            threshold = np.inf if cand.size == 0 else threshold + max(abs(threshold), 1.0)
        # τ: the exact k-th distance among the faces the scan ranks best (any k real faces
        # give an upper bound on the final k-th distance; the best-ranked give a tight one).
        values = scan[cand]
        few = min(cand.size, _TAU_FACES_PER_K * wanted)
        best = cand[np.argpartition(values, few - 1)[:few]] if few < cand.size else cand
        tau = float(np.partition(self._exact(best, query), wanted - 1)[wanted - 1])
        cutoff = tau - qq + terms.loose
        if cutoff > threshold:  # the first candidates did not reach far enough: one more pass
            cand = self._allowed(self._at_most(scan, cutoff), blocked)
            values = scan[cand]
        else:
            near = values <= cutoff
            cand, values = cand[near], values[near]
        bound = self._bounds(values, cand, terms)
        survivors = np.sort(cand[bound <= tau])  # sorted: the exact store is read in order
        positions, sq = self._rerank(survivors, query, qq=qq, margin=terms.margin, k=wanted)
        order = _topk_order(self.ids[positions], sq, wanted)
        return SearchResult(
            ids=tuple(int(i) for i in self.ids[positions[order]]),
            distances=tuple(math.sqrt(float(d)) for d in sq[order]),
            scanned=len(self),
            reranked=int(survivors.size),
        )

    def _rerank(
        self,
        survivors: npt.NDArray[np.intp],
        query: npt.NDArray[np.float32],
        *,
        qq: float,
        margin: float,
        k: int,
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """The survivors that can be in the top k, with their exact (float64) distances.

        A float32 pass over the survivors' rows first: its error is at most n·2⁻²⁴·(‖q‖ +
        ‖x‖)², far inside ``margin``, so ``sq32 ± margin`` brackets every exact distance and
        only rows whose lower end is under the k-th upper end need the float64 reference.
        ``einsum`` rather than a BLAS call: no worker threads left spinning after a search.
        """
        rows = np.asarray(self.descriptors[survivors], dtype=np.float32)
        dots = np.einsum("ij,j->i", rows, query).astype(np.float64)
        sq32 = self.norms[survivors].astype(np.float64) + qq - 2.0 * dots
        if survivors.size > k:
            upper = float(np.partition(sq32, k - 1)[k - 1]) + margin
            near = sq32 - margin <= upper
            survivors, rows = survivors[near], rows[near]
        return survivors, exact_distances(descriptors=rows, probe=query)

    def _probe_terms(self, query: npt.NDArray[np.float32]) -> _ProbeTerms:
        q64 = query.astype(np.float64)
        qq = float(np.dot(q64, q64))
        qnorm = math.sqrt(qq)
        rounding = float(np.linalg.norm(q64 - _round_probe(query).astype(np.float64)))
        margin = _ROUNDING_MARGIN * (qnorm + self.norm_max) ** 2
        per_error = 2.0 * (qnorm - self.norm_reference + rounding)
        loose = margin + max(0.0, per_error) * self.error_max + 2.0 * rounding * self.norm_max
        return _ProbeTerms(
            qq=qq, rounding=rounding, margin=margin, per_error=per_error, loose=loose
        )

    def _bounds(
        self,
        scan: npt.NDArray[np.float32],
        positions: npt.NDArray[np.intp],
        terms: _ProbeTerms,
    ) -> npt.NDArray[np.float64]:
        """Lower bounds on ``‖q − x‖²`` for the faces at ``positions`` (their scan values given)."""
        face = self.face_terms[positions].astype(np.float64)
        return (
            (terms.qq - terms.margin)
            + scan.astype(np.float64)
            - terms.per_error * face[:, 0]
            - 2.0 * terms.rounding * np.sqrt(face[:, 1])
        )

    def _exact(
        self, positions: npt.NDArray[np.intp], query: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        return exact_distances(descriptors=self.descriptors[positions], probe=query)

    def _scan(self, query: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``‖x‖² − 2R·ε − 2 q̃·x̂`` for every face, with ``q̃`` the probe on its int8 grid.

        The result is this thread's buffer: valid until the thread's next search.
        """
        local = self._local
        if getattr(local, "binding", None) is None:
            local.buffer = np.empty((1, len(self)), dtype=np.float32)
            local.binding = self.session.io_binding()
            local.binding.bind_output(
                "lower",
                "cpu",
                element_type=np.float32,
                shape=local.buffer.shape,
                buffer_ptr=local.buffer.ctypes.data,
            )
        rounded = np.ascontiguousarray(_round_probe(query)[None, :])
        local.binding.bind_cpu_input("probe", rounded)
        self.session.run_with_iobinding(local.binding)
        scan: npt.NDArray[np.float32] = local.buffer[0]
        return scan

    def _at_most(self, scan: npt.NDArray[np.float32], limit: float) -> npt.NDArray[np.intp]:
        """Positions whose scan value is at most ``limit``, split over the shard's threads.

        NumPy's comparison and ``nonzero`` run on one core; over 2.5 million values that is
        ~2 ms, a tenth of a search, and halves of the array are independent.
        """
        parts = min(self.threads, max(1, scan.shape[0] // _SPLIT_MIN))
        if parts == 1:
            return np.flatnonzero(scan <= limit)
        edges = np.linspace(0, scan.shape[0], parts + 1).astype(np.intp)
        chunks = _pool(parts).map(
            lambda a, b: np.flatnonzero(scan[a:b] <= limit) + a, edges[:-1], edges[1:]
        )
        return np.concatenate(list(chunks))

    def _first_threshold(self, scan: npt.NDArray[np.float32], k: int) -> float:
        """A threshold expected to admit about ``_CANDIDATES_PER_K·k`` faces, from a sample."""
        target = _CANDIDATES_PER_K * k
        if target >= scan.shape[0]:
            return float("inf")
        sample = scan[::_SAMPLE_STRIDE]
        rank = min(sample.shape[0] - 1, max(0, target // _SAMPLE_STRIDE))
        return float(np.partition(sample, rank)[rank])

    def _allowed(
        self, positions: npt.NDArray[np.intp], blocked: npt.NDArray[np.int64] | None
    ) -> npt.NDArray[np.intp]:
        if blocked is None or positions.size == 0:
            return positions
        return positions[~np.isin(self.ids[positions], blocked)]


def _round_probe(query: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The probe on ONNX Runtime's int8 grid: per block of the scan, a step of max|q|/127.

    MatMulNBits with int8 compute quantizes its input exactly so, block by block; a probe
    already on that grid passes through unchanged (``test_the_kernel_sees_the_rounded_probe``
    checks it against every face), so the bound needs only ``‖q − q̃‖``, which we know.
    """
    dim = query.shape[0]
    if dim == 0:
        return np.zeros_like(query, dtype=np.float32)
    block = _block_size(dim) if dim % 16 == 0 else dim
    blocks = query.reshape(-1, block)
    amax = np.abs(blocks).max(axis=1, keepdims=True)
    step = np.where(amax > 0, amax / np.float32(_CODE_MAX), np.float32(1.0)).astype(np.float32)
    codes = np.clip(np.rint(blocks / step), -_CODE_MAX, _CODE_MAX)
    return (codes * step).astype(np.float32).reshape(-1)


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
