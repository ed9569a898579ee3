"""omnivec2's benchmark suite: every figure is a ratio against a baseline measured in the same run.

Run `python -m benchmarks --preset cpu|tiny|base [--only a,b,...]`; see `benchmarks.__main__`.
One module per benchmark (a-g); `timing` holds the shared interleaved-repetition helper and
`report` the result rows and the JSON / markdown writers.
"""
