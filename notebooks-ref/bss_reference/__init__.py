"""Python Keras reference of the separation network: model (Keras 3), data (NumPy), training and evaluation.

`data` and `evaluation` need only NumPy; `model` and `training` import Keras.
"""
