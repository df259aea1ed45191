// Tests pick their backend explicitly; tfjs's "install the node backend" banner is noise here.
import * as tf from '@tensorflow/tfjs-core';

tf.env().set('IS_TEST', true);
