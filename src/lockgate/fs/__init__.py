"""The image file-system view: stream layers once, hand files to analysers, squash results.

Layer tars are never extracted for analysis; each entry is offered to every analyser,
results are cached per (layer digest, computed diff_id, analyser name and version) and
merged with OCI whiteout semantics so packages removed by a later layer are not reported.

Modules: ``paths`` (name normalisation, whiteouts), ``layers`` (streaming one layer
safely), ``dispatch`` (entry -> analysers), ``analysis`` (records, ``ImageAnalysis``,
merge), ``cache`` (SQLite LRU cache), ``walker`` (``analyze_image``), ``directory``
(``analyze_directory``), ``flatten`` (merged file system to a directory).
"""
