"""Logger glue: W&B (online/offline, resume), an appending CSV logger, TensorBoard histograms, secret redaction."""
