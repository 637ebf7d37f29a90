"""The seed's training protocol in Keras 3: optimizer, loss, callbacks (see ../../shared/SPEC.md).

- Adam with Keras defaults written out: learning_rate 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
- Loss: MSE of each head, summed with weight 1 (logged as decoded1_loss, decoded2_loss, loss).
- Batch 256, 1000 steps per epoch, up to 80 epochs, no validation split.
- Callbacks in the seed's order: EarlyStopping(monitor='loss', patience=5), ReduceLROnPlateau(monitor='loss',
  factor=0.5, patience=5, min_lr=1e-6, min_delta=1e-4), then a keeper of the weights of the epoch with the
  lowest training loss, restored when training ends (early stop or not).
"""
import keras
import numpy as np

BATCH_SIZE = 256
STEPS_PER_EPOCH = 1000
EPOCHS = 80


def compile_model(model):
    """Compiles `model` (outputs [decoded1, decoded2]) with the seed's optimizer and summed per-head MSE."""
    optimizer = keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    model.compile(optimizer=optimizer, loss=["mse", "mse"], loss_weights=[1.0, 1.0])
    return model


class BestWeightsKeeper(keras.callbacks.Callback):
    """Keeps the weights (incl. BN moving statistics) of the epoch with the lowest `loss`; restores them at the end."""

    def __init__(self, monitor="loss"):
        super().__init__()
        self.monitor = monitor
        self.best = np.inf
        self.best_epoch = None
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is not None and current < self.best:
            self.best, self.best_epoch = float(current), epoch
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
            print(f"restored the weights of epoch {self.best_epoch + 1} ({self.monitor} {self.best:.6g})")


def seed_callbacks():
    """The seed's callbacks, in its order (ReduceLROnPlateau logs the epoch's rate as `learning_rate`)."""
    return [
        keras.callbacks.EarlyStopping(monitor="loss", patience=5),
        keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=5, min_lr=1e-6, min_delta=1e-4),
        BestWeightsKeeper(monitor="loss"),
    ]
