"""The three training stages as plain PyTorch (the Ray Train loops call into these)."""
