"""Video with PyAV: encode, probe, frame access (first / last by seeking), trim."""
