"""The paper's ablations at this scale: variants of the design, trained in-process at equal compute
over several seeds, scored on the test splits; and unseen-modality adaptation (paper section 4.4)."""
