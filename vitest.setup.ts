// Tests pick their backend explicitly; tfjs's "install the node backend" banner is noise here.
// (PROD only silences tfjs warnings; IS_TEST would also turn on tfjs's own kernel leak checks,
// which misfire on ops with custom gradients such as softmaxCrossEntropy.)
import * as tf from '@tensorflow/tfjs-core';

tf.env().set('PROD', true);
