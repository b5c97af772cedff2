/**
 * Canonizers: rewrites of a network into an equivalent one that LRP explains better, such as folding batch
 * normalization into the preceding linear layer. Each is a pure function returning a new network.
 */
package org.gpulrp.canonize;
