/**
 * Text for token models: HuggingFace tokenizers ({@link org.gpulrp.io.text.Tokenizer}, through DJL), batches padded
 * into a token model's packed samples ({@link org.gpulrp.io.text.TokenBatch}), and token relevance drawn over the
 * text as HTML or terminal colours ({@link org.gpulrp.io.text.TextHeatmaps}).
 */
package org.gpulrp.io.text;
