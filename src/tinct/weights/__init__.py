"""Weight files: the reviewed table, lookup (offline directories, cache, download), verification."""

from tinct.weights.store import find_weights, load_weights, search_dirs, weight_file
from tinct.weights.table import WEIGHT_FILES, WeightFile
from tinct.weights.verify import WeightsError, load_state_dict_exact, sha256_of_file

__all__ = [
    "WEIGHT_FILES",
    "WeightFile",
    "WeightsError",
    "find_weights",
    "load_state_dict_exact",
    "load_weights",
    "search_dirs",
    "sha256_of_file",
    "weight_file",
]
