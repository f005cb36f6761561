"""Model exports (docs/exports.md): model files, standalone code, exports.json.

The package root imports no framework: ``torch_export`` runs only in the PyTorch worker,
``tf_export`` only in the TensorFlow worker, and the rest (format names, code generation,
the ONNX cross-check and the manifest) run anywhere, the GUI process included.
"""
