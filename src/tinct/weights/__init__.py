"""Weight files: verification now; the registry of named weight sets comes with the model zoo."""

from tinct.weights.verify import WeightsError, load_state_dict_exact, sha256_of_file

__all__ = ["WeightsError", "load_state_dict_exact", "sha256_of_file"]
