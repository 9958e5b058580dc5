"""Training data: datasets, augmentation, synthetic ink, batching."""
