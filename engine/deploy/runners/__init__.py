"""The runners of the deployment benchmark: each loads one kind of file in its runtime and runs
it. Imported only in a benchmark child (engine.deploy.child); each imports its framework inside
``imports()``, so the child can time the import apart and report a missing runtime as skipped."""
