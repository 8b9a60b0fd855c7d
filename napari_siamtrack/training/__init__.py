"""Training SiamFC+ from sequence folders: crop cache, pair sampling, losses and the training loop."""
