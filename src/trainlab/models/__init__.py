"""Plain `nn.Module` networks; the LightningModule that trains them lives in `trainlab.classifier`.

The model contract: what every net (MLP, CNN, ResNet, FastCNN, PlainCNN, and the ones to come) receives and must honour.

- Construction. `conf/model/<name>.yaml` names the class by `_target_`, plus its own arguments; the Classifier
  calls it as `Net(in_shape=…, num_classes=…, **those arguments)`, where `in_shape` (C, H, W) and `num_classes`
  come from the data module, never from the config. A table's `in_shape` is (F,) (its feature count): the MLP
  takes it (it flattens), the CNN is refused with tables (`trainlab.config.tasks`). `num_classes` is the number of
  output units the `task` needs (1 for binary, one per label or regression target). Every argument is plain
  data (checkpoints hold them).
- Forward. `net(x)` takes a float batch (N, *in_shape), already scaled (and augmented, when training) by the data
  module, and returns logits (N, num_classes): no softmax, the loss is cross-entropy on logits.
- Keys it honours, passed by its config file: `activation` (a name from `trainlab.config.choices.ACTIVATIONS`,
  built by `models.activations.make_activation` with `negative_slope`, `elu_alpha`, `maxout_pieces`), and from
  the `regularization` group `batchnorm` and `batchnorm_order` (`${regularization.batchnorm}`, …; the hidden
  blocks come from `models.blocks.BlockSpec`), and `dropout` where the net has one dropout rate (the MLP; the CNN
  has its architecture's own `conv_dropout` and `dense_dropout` instead). The other regularization keys act
  outside the net (`trainlab.regularization` lists who honours which).
- What the rest of trainlab assumes. Weights live in `nn.Linear`/`nn.ConvNd` layers registered in forward order
  (init schemes and LSUV walk them, `trainlab.init.weighted_layers`); weights have 2+ dims and biases and norm
  parameters 1 (penalties and weight decay skip the 1-dim ones); dropout is an `nn.Dropout*` module (gradcheck
  turns it off) and batch norm an `nn.BatchNormNd` (train/eval switch its statistics).
- The conv nets (`image_net.ImageNet`: cnn, resnet, fast_cnn, plain_cnn) also take `channels_last`, `compile` and
  `tta_flip`, switches of speed and of test-time augmentation that keep the state dict as it is.
"""

from trainlab.models.cnn import CNN
from trainlab.models.fast_cnn import FastCNN
from trainlab.models.mlp import MLP
from trainlab.models.plain_cnn import PlainCNN
from trainlab.models.resnet import ResNet

__all__ = ["CNN", "MLP", "FastCNN", "PlainCNN", "ResNet"]
