/**
 * PyTorch weights: {@link org.gpulrp.io.torch.StateDict} reads {@code torch.save(model.state_dict())} zips (with a
 * restricted pickle interpreter that executes nothing) and {@code .safetensors} files; {@link
 * org.gpulrp.io.torch.Architecture} binds them to a {@link org.gpulrp.model.Network}.
 */
package org.gpulrp.io.torch;
