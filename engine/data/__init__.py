"""Datasets: what each gives the model, how it is made, split and batched the same for both."""
