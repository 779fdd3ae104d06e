"""The image file-system view: stream layers once, hand files to analysers, squash results.

Layer tars are never extracted; each entry is offered to every analyser, results are
cached per (layer digest, analyser name, analyser version) and merged with OCI whiteout
semantics so packages removed by a later layer are not reported.
"""
