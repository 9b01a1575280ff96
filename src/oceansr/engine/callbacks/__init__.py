"""Training-process side of the run protocol: RunSession (process) and RunRecorder (Lightning)."""
