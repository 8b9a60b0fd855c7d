"""Training SiamFC+ from sequence folders: feature distillation from a teacher (pretraining), crop
cache, pair sampling, losses, the training loop and the int8 calibration crops."""
