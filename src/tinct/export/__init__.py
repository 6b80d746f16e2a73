"""Model export (ONNX) and the ONNX Runtime backend of the still colorizer.

``onnxruntime`` is optional (``pip install 'tinct[onnx]'``); importing this package does not
import it. See :mod:`.onnx_export` (the graph), :mod:`.onnx_cache` (export once, cached),
:mod:`.onnx_runtime` (sessions) and :mod:`.onnx_backend` (the backend ``tinct.load(name,
backend="onnx")`` gives the colorizer).
"""
