"""Walk every layer of an image once, feed the analysers, cache per layer, merge with whiteouts.

For each layer the cache is asked first (key: compressed digest + the diff_id lockgate
computed for it earlier + analyser name/version/size cap); only analysers without a cached
result for that layer cause the layer to be streamed, and then only those analysers run.
Layers needing I/O are processed on up to two threads (decompression and hashing release
the GIL). The config's diff_ids are checked against the computed ones: a mismatch is an
:class:`~lockgate.errors.IntegrityError`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import msgspec
from msgspec.structs import replace

from lockgate.config import Limits, Settings
from lockgate.errors import ConfigError, IntegrityError
from lockgate.findings.model import CoverageGap
from lockgate.fs.analysis import ImageAnalysis, Items, LayerIndex, LayerRecord, merge, relabel, relabel_index
from lockgate.fs.cache import LayerCache
from lockgate.fs.model import AnalysisResult, Analyzer, FileEntry, FileType
from lockgate.fs.paths import Whiteout, printable

if TYPE_CHECKING:
    from lockgate.fs.layers import ProgressFn
    from lockgate.oci.image import Image, ImageSource
    from lockgate.oci.model import Descriptor

__all__ = ["ImageAnalysis", "LayerOutput", "analyze_image", "analyze_layer"]

HARDLINK_CONTENT_BUDGET = 16 * 1024 * 1024
"""Bytes of already-read file content kept per layer to serve hardlinks to those files."""


def _params(a: Analyzer, limits: Limits) -> str:
    """The analyser's configuration as part of the cache key (size cap, custom rules ...)."""
    cap = a.max_size if a.max_size is not None else limits.max_file_bytes
    extra = str(getattr(a, "cache_params", "") or "")
    base = f"max={cap}" if a.needs_content else ""
    return f"{base};{extra}" if extra else base


def _printable_entry(entry: FileEntry) -> FileEntry:
    path, link = printable(entry.path), printable(entry.linkname)
    if path is entry.path and link is entry.linkname:
        return entry
    return replace(entry, path=path, linkname=link)


def _const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


class LayerOutput(msgspec.Struct, frozen=True):
    """What one pass over a layer produced."""

    index: LayerIndex
    results: dict[str, Items]
    gaps: tuple[CoverageGap, ...]
    """Layer-level problems (truncated, bomb ...)."""
    diff_id: str | None
    """Computed diff_id; None when the layer could not be read to its end."""


def analyze_layer(
    source: ImageSource,
    desc: Descriptor,
    analyzers: Sequence[Analyzer],
    *,
    limits: Limits,
    label: str = "",
    progress: ProgressFn | None = None,
) -> LayerOutput:
    """Stream one layer through ``analyzers``; results per analyser name, plus the layer index."""
    # Imported here: a warm scan answered from the cache never needs tarfile/gzip/the dispatcher.
    from lockgate.fs.dispatch import Dispatcher
    from lockgate.fs.layers import LayerBrokenError, LayerStream

    stream = LayerStream(source, desc, limits=limits, label=label, progress=progress)
    dispatcher = Dispatcher(analyzers, limits)
    squash = [a.squash for a in dispatcher.analyzers]
    per: list[dict[str, AnalysisResult] | list[tuple[str, AnalysisResult]]] = [{} if s else [] for s in squash]
    squashed = [b for b in per if isinstance(b, dict)]
    in_squashed: set[str] = set()
    """Paths with a result in some squashing bucket (only those need replacing on duplicates)."""
    nondirs: set[str] = set()
    dirs: set[str] = set()
    whiteouts: set[str] = set()
    opaque: set[str] = set()
    files: dict[str, FileEntry] = {}
    kept: dict[str, bytes] = {}
    kept_bytes = 0
    try:
        with stream as items:
            for item in items:
                entry = _printable_entry(item.entry)
                if item.whiteout is Whiteout.DELETE:
                    whiteouts.add(entry.path)
                    continue
                if item.whiteout is Whiteout.OPAQUE:
                    opaque.add(entry.path)
                    continue
                path = entry.path
                if entry.type is FileType.DIR:
                    dirs.add(path)
                    nondirs.discard(path)
                else:
                    nondirs.add(path)
                    dirs.discard(path)
                if path in in_squashed:  # a duplicate entry replaces the earlier one
                    in_squashed.discard(path)
                    for done in squashed:
                        done.pop(path, None)
                read: Callable[[], bytes] | None = item.read
                offered = entry
                if entry.type is FileType.HARDLINK:
                    target = files.get(entry.linkname)
                    if target is not None:
                        offered = FileEntry(
                            path=path,
                            size=target.size,
                            mode=entry.mode,
                            uid=entry.uid,
                            gid=entry.gid,
                            type=FileType.FILE,
                            linkname=entry.linkname,
                            layer=entry.layer,
                        )
                        data = kept.get(entry.linkname)
                        read = _const(data) if data is not None else None
                elif entry.type is FileType.FILE:
                    files[path] = entry
                wanted = dispatcher.wanted(offered)
                if not wanted:
                    continue
                if entry.type is FileType.FILE and read is not None and dispatcher.needs_content(offered, wanted):
                    content = item.read()
                    if kept_bytes + len(content) <= HARDLINK_CONTENT_BUDGET:
                        kept[path] = content
                        kept_bytes += len(content)
                    read = _const(content)
                for i, res in dispatcher.run(offered, wanted, read):
                    bucket = per[i]
                    if isinstance(bucket, dict):
                        bucket[path] = res
                        in_squashed.add(path)
                    else:
                        bucket.append((path, res))
    except LayerBrokenError:
        pass  # the gap is on the stream; keep what was read
    results: dict[str, Items] = {}
    for a, bucket in zip(dispatcher.analyzers, per, strict=True):
        results[a.name] = tuple(bucket.items()) if isinstance(bucket, dict) else tuple(bucket)
    index = LayerIndex(
        nondirs=frozenset(nondirs),
        dirs=frozenset(dirs),
        whiteouts=frozenset(whiteouts),
        opaque=frozenset(opaque),
        gaps=tuple(g for g in stream.gaps if g.where != desc.digest),
    )
    layer_gaps = tuple(g for g in stream.gaps if g.where == desc.digest)
    return LayerOutput(
        index=index, results=results, gaps=layer_gaps, diff_id=stream.diff_id if stream.complete else None
    )


_Cached = tuple[str, LayerIndex | None, dict[str, Items]]
"""What the cache holds for a layer: (diff_id lockgate computed, index, results per analyser found)."""


def _lookup(
    image: Image, pos: int, analyzers: Sequence[Analyzer], settings: Settings, cache: LayerCache
) -> _Cached | None:
    """The cache's entries for layer ``pos``; raises when the config's diff_id claim contradicts them."""
    desc = image.layers[pos]
    claims = image.config.diff_ids
    claim = claims[pos] if pos < len(claims) else ""
    found = cache.lookup(desc.digest, [(a.name, a.version, _params(a, settings.limits)) for a in analyzers])
    if found is not None and claim and found[0] != claim:
        raise IntegrityError(
            f"image config claims diff_id {claim} for layer {desc.digest}, but its content is {found[0]}"
        )
    return found


def _complete(
    image: Image, pos: int, analyzers: Sequence[Analyzer], found: _Cached | None, progress: ProgressFn | None
) -> LayerRecord | None:
    """The layer's record when ``found`` answers every analyser (no layer read), else None."""
    if found is None:
        return None
    known, index, cached = found
    if index is None or any(a.name not in cached for a in analyzers):
        return None
    desc = image.layers[pos]
    if progress is not None:
        progress(desc.size)
    return LayerRecord(digest=desc.digest, diff_id=known, index=index, results=cached)


def _layer(
    image: Image,
    pos: int,
    analyzers: Sequence[Analyzer],
    settings: Settings,
    cache: LayerCache | None,
    progress: ProgressFn | None,
    found: _Cached | None,
) -> LayerRecord:
    """Read layer ``pos`` for the analysers ``found`` (its cache entries, if any) does not answer."""
    desc = image.layers[pos]
    claims = image.config.diff_ids
    claim = claims[pos] if pos < len(claims) else ""
    limits = settings.limits
    cached: dict[str, Items] = found[2] if found is not None else {}
    missing = [a for a in analyzers if a.name not in cached]
    label = claim or desc.digest
    fresh = analyze_layer(image.source, desc, missing, limits=limits, label=label, progress=progress)
    if fresh.diff_id is None:  # incomplete layer: keep partial results, never cache them
        results = {**fresh.results, **cached}
        return LayerRecord(digest=desc.digest, diff_id=label, index=fresh.index, results=results, gaps=fresh.gaps)
    diff_id = fresh.diff_id
    results = {name: tuple((p, relabel(r, label, diff_id)) for p, r in items) for name, items in fresh.results.items()}
    index = relabel_index(fresh.index, label, diff_id)
    if cache is not None:
        cache.put(
            desc.digest,
            diff_id,
            index,
            [(a.name, a.version, _params(a, limits), results[a.name]) for a in missing],
        )
    if claim and claim != diff_id:
        raise IntegrityError(
            f"image config claims diff_id {claim} for layer {desc.digest}, but its content is {diff_id}"
        )
    return LayerRecord(digest=desc.digest, diff_id=diff_id, index=index, results={**results, **cached})


def analyze_image(
    image: Image,
    analyzers: Sequence[Analyzer],
    *,
    settings: Settings,
    progress: ProgressFn | None = None,
    cache: LayerCache | bool | None = True,
    workers: int | None = None,
) -> ImageAnalysis:
    """Run ``analyzers`` over every layer of ``image`` (each layer read at most once) and merge.

    ``cache``: ``True`` uses the cache under ``settings.layer_cache_dir``, ``False``/``None``
    disables it, or pass a :class:`LayerCache`. ``progress`` receives compressed byte counts
    (possibly from worker threads). ``workers`` defaults to ``min(2, cpu_count)``; with more
    than one, different layers are analysed on different threads, so analysers must not keep
    mutable state between calls (pass ``workers=1`` for one that does).
    """
    names = [a.name for a in analyzers]
    if len(set(names)) != len(names):
        raise ConfigError(f"analyser names must be unique: {names}")
    own_cache = cache is True
    lc: LayerCache | None = (
        LayerCache.for_settings(settings) if cache is True else cache if isinstance(cache, LayerCache) else None
    )
    n = len(image.layers)
    lock = threading.Lock()

    def safe_progress(count: int) -> None:
        if progress is not None:
            with lock:
                progress(count)

    try:
        # One cache lookup per layer, on this thread; layers it answers in full need no thread
        # (nor the concurrent.futures import).
        found = [_lookup(image, i, analyzers, settings, lc) if lc is not None else None for i in range(n)]
        complete = [_complete(image, i, analyzers, found[i], safe_progress) for i in range(n)]
        todo = [i for i, r in enumerate(complete) if r is None]
        jobs = workers if workers is not None else min(2, os.cpu_count() or 1)
        fresh: dict[int, LayerRecord] = {}
        if jobs <= 1 or len(todo) <= 1:
            fresh = {i: _layer(image, i, analyzers, settings, lc, safe_progress, found[i]) for i in todo}
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="lockgate-layer") as pool:
                futures = {
                    i: pool.submit(_layer, image, i, analyzers, settings, lc, safe_progress, found[i]) for i in todo
                }
                fresh = {i: f.result() for i, f in futures.items()}
        records = [r if r is not None else fresh[i] for i, r in enumerate(complete)]
    finally:
        if own_cache and lc is not None:
            lc.close()
    return merge(records, analyzers)
