"""Learned temporal networks for video: the recurrent colorizer (ConvGRU) and the propagation
refiner. Import the submodules; this package imports nothing on its own."""
