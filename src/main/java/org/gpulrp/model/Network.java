package org.gpulrp.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;

/**
 * An immutable network: a graph of named {@link Node}s kept in topological order. Today every node has one input
 * (a chain); the graph form lets convolutions, pooling and residual additions join without a new API.
 */
public final class Network {
    /** The name by which a node lists the network input among its inputs. */
    public static final String INPUT = "<input>";

    private final String name;
    private final int inputSize;
    private final int[] inputShape;
    private final List<Node> nodes;
    private final TokenInput tokens;

    private Network(String name, int[] inputShape, List<Node> nodes, TokenInput tokens) {
        this.name = name;
        this.tokens = tokens;
        this.inputShape = inputShape.clone();
        this.inputSize = product(inputShape);
        this.nodes = List.copyOf(nodes);
    }

    /** Refuses a token layout (null: none) that does not pack {@code inputSize} values per sample. */
    private static void checkTokens(TokenInput tokens, int inputSize) {
        InvalidArgumentException.check(tokens == null || tokens.sampleSize() == inputSize, "tokens", "packs "
                + (tokens == null ? 0 : tokens.sampleSize()) + " values per sample, the network input has "
                + inputSize);
    }

    private static int product(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    public static Builder builder(int inputFeatures) {
        return new Builder("network", new int[] {inputFeatures});
    }

    public static Builder builder(String name, int inputFeatures) {
        return new Builder(name, new int[] {inputFeatures});
    }

    /** A network whose samples have the given shape (for example {@code [blocks, length]} for a token model). */
    public static Builder builder(String name, int[] inputShape) {
        return new Builder(name, inputShape);
    }

    /** A network whose samples are images {@code [channels, height, width]} (NCHW batches). */
    public static Builder builder(String name, int channels, int height, int width) {
        return new Builder(name, new int[] {channels, height, width});
    }

    /** The shape of one input sample, e.g. {@code [features]} or {@code [channels, height, width]}. */
    public int[] inputShape() {
        return inputShape.clone();
    }

    public String name() {
        return name;
    }

    /** How a token model packs its inputs into a sample, or null for a network with one float input. */
    public TokenInput tokens() {
        return tokens;
    }

    /** Features per input sample. */
    public int inputSize() {
        return inputSize;
    }

    /** Features per output sample (the last node's output). */
    public int outputSize() {
        return nodes.get(nodes.size() - 1).outputSize();
    }

    /** The nodes in topological order (the order they execute forward). */
    public List<Node> nodes() {
        return nodes;
    }

    public Node node(String nodeName) {
        for (Node n : nodes) {
            if (n.name().equals(nodeName)) {
                return n;
            }
        }
        throw new InvalidArgumentException("node", "no node named '" + nodeName + "' in " + name);
    }

    /** Nodes that carry weights and receive an LRP rule, in forward order. */
    public List<Node> linearNodes() {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n.kind().isLinear()) {
                out.add(n);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** Total weights and biases. */
    public long parameterCount() {
        long c = 0;
        for (Node n : nodes) {
            c += parameterCount(n);
        }
        return c;
    }

    /**
     * Weights and biases of one node: dense and convolution layers, embedding tables, layer norms' scale and shift;
     * 0 for the others (constants of offsets and scales are not counted).
     */
    public static long parameterCount(Node n) {
        if (n.layer() instanceof Dense d) {
            return (long) d.in() * d.out() + d.out();
        }
        if (n.layer() instanceof Conv2d cv) {
            return (long) cv.geometry().weightSize() + cv.geometry().outChannels();
        }
        if (n.layer() instanceof Embedding e) {
            return (long) e.vocab() * e.hidden();
        }
        if (n.layer() instanceof LayerNorm ln) {
            return ln.rms() ? ln.hidden() : 2L * ln.hidden();
        }
        return 0;
    }

    /**
     * This network without its final activation (and the identities after it, such as dropout at inference), for
     * explaining the logit; the network itself when it does not end in an activation.
     */
    public Network withoutFinalActivation() {
        int k = nodes.size() - 1;
        while (k > 0 && nodes.get(k).kind() == LayerKind.IDENTITY) {
            k--;
        }
        if (k == 0 || nodes.get(k).kind() != LayerKind.ACTIVATION) {
            return this;
        }
        return new Network(name, inputShape, nodes.subList(0, k), tokens);
    }

    /**
     * This network with node {@code nodeName}'s layer replaced by {@code layer}, which must map the node's input size
     * to its output size (e.g. the same layer with other weights, for the sanity check of docs/DESIGN.md section
     * 2.10).
     */
    public Network withLayer(String nodeName, Layer layer) {
        return withLayer(nodeName, layer, tokens);
    }

    /**
     * As {@link #withLayer(String, Layer)}, with the token input layout {@code tokens} (null: none), which must pack
     * the network's input size (e.g. the same layout with one more vocabulary row).
     */
    public Network withLayer(String nodeName, Layer layer, TokenInput tokens) {
        checkTokens(tokens, inputSize);
        Node old = node(nodeName);
        InvalidArgumentException.check(layer != null, "layer", "must not be null");
        InvalidArgumentException.check(old.sources().size() == 1, "node", "'" + nodeName + "' merges several "
                + "inputs; only a single-input layer can be replaced");
        int out = layer.outputSize(old.inputSize());
        if (out != old.outputSize()) {
            throw new ShapeMismatchException("replacement of layer '" + nodeName + "'", old.outputSize()
                    + " outputs", out + " outputs");
        }
        List<Node> copy = new ArrayList<>(nodes);
        copy.set(nodes.indexOf(old), new Node(old.name(), layer, old.inputs(), old.inputSize(), old.outputSize()));
        return new Network(name, inputShape, copy, tokens);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append(" (input ").append(inputSize).append(")");
        for (Node n : nodes) {
            sb.append("\n  ").append(n.name()).append(": ").append(n.layer()).append(" -> ").append(n.outputSize());
        }
        return sb.toString();
    }

    /** Builds a chain of layers; each added layer reads the previous one's output. */
    public static final class Builder {
        private final String name;
        private final int inputSize;
        private final int[] inputShape;
        private final List<Node> nodes = new ArrayList<>();
        private final Set<String> names = new HashSet<>();
        private TokenInput tokens;
        /** Each node's output shape: {@code [features]} or {@code [channels, height, width]}. */
        private final java.util.Map<String, int[]> shapes = new java.util.HashMap<>();

        private Builder(String name, int[] inputShape) {
            for (int d : inputShape) {
                if (d <= 0) {
                    throw new ShapeMismatchException("network input", "positive sizes",
                            java.util.Arrays.toString(inputShape));
                }
            }
            this.name = name;
            this.inputShape = inputShape.clone();
            this.inputSize = product(inputShape);
            shapes.put(INPUT, inputShape.clone());
        }

        /** The output shape of a node added so far ({@link Network#INPUT} for the input). */
        public int[] shapeOf(String node) {
            int[] s = shapes.get(node);
            if (s == null) {
                throw new InvalidArgumentException("node", "no node named '" + node + "' yet");
            }
            return s.clone();
        }

        private int[] image(String node, String forNode) {
            int[] s = shapeOf(node);
            if (s.length != 3) {
                throw new ShapeMismatchException("input of '" + forNode + "'", "an image [channels, height, width]",
                        java.util.Arrays.toString(s));
            }
            return s;
        }

        /** A convolution with square kernel, stride and padding reading the previous node. */
        public Builder conv2d(String nodeName, int outChannels, int kernel, int stride, int padding, float[] weight,
                              float[] bias) {
            int[] s = image(last(), nodeName);
            return add(nodeName, new Conv2d(ConvGeometry.of(s[0], s[1], s[2], outChannels, kernel, stride, padding),
                    weight, bias));
        }

        public Builder maxPool2d(String nodeName, int kernel, int stride) {
            int[] s = image(last(), nodeName);
            return add(nodeName, new MaxPool2d(PoolGeometry.of(s[0], s[1], s[2], kernel, stride, 0)));
        }

        public Builder avgPool2d(String nodeName, int kernel, int stride) {
            int[] s = image(last(), nodeName);
            return add(nodeName, new AvgPool2d(PoolGeometry.of(s[0], s[1], s[2], kernel, stride, 0)));
        }

        /** Average over each channel's whole image: {@code [C, H, W] -> [C, 1, 1]}. */
        public Builder globalAvgPool(String nodeName) {
            int[] s = image(last(), nodeName);
            return add(nodeName, new AvgPool2d(new PoolGeometry(s[0], s[1], s[2], s[1], s[2], 1, 1, 0, 0)));
        }

        /** NCHW flattening: values unchanged, the shape becomes {@code [C*H*W]}. */
        public Builder flatten(String nodeName) {
            add(nodeName, new Identity());
            int[] s = shapes.get(nodeName);
            shapes.put(nodeName, new int[] {product(s)});
            return this;
        }

        private int[] outputShape(Layer layer, List<String> inputs, int outSize) {
            int[] first = shapes.get(inputs.get(0));
            if (layer instanceof Conv2d c) {
                return c.outputShape();
            } else if (layer instanceof MaxPool2d p) {
                return new int[] {p.geometry().channels(), p.geometry().outH(), p.geometry().outW()};
            } else if (layer instanceof AvgPool2d p) {
                return new int[] {p.geometry().channels(), p.geometry().outH(), p.geometry().outW()};
            } else if (layer instanceof Concat && first.length == 3) {
                int channels = 0;
                for (String in : inputs) {
                    int[] s = shapes.get(in);
                    if (s.length != 3 || s[1] != first[1] || s[2] != first[2]) {
                        return new int[] {outSize};
                    }
                    channels += s[0];
                }
                return new int[] {channels, first[1], first[2]};
            } else if (layer instanceof Slice sl) {
                int plane = first.length == 3 ? first[1] * first[2] : 0;
                return plane > 0 && sl.start() % plane == 0 && sl.length() % plane == 0
                        ? new int[] {sl.length() / plane, first[1], first[2]} : new int[] {outSize};
            } else if (layer instanceof Dense || layer instanceof Concat) {
                return new int[] {outSize};
            }
            // Same-size layers keep the shape; a slice of whole channels keeps height and width.
            if (product(first) == outSize) {
                return first.clone();
            }
            if (first.length == 3 && outSize % (first[1] * first[2]) == 0) {
                return new int[] {outSize / (first[1] * first[2]), first[1], first[2]};
            }
            return new int[] {outSize};
        }

        /** Appends a layer under a unique name, reading the previous node's output (the network input first). */
        public Builder add(String nodeName, Layer layer) {
            return add(nodeName, layer, nodes.isEmpty() ? INPUT : nodes.get(nodes.size() - 1).name());
        }

        /**
         * Appends a layer reading the named nodes' outputs ({@link Network#INPUT} for the network input); merge
         * layers ({@link Add}, {@link Concat}) take two or more, all others exactly one. Nodes are added in an order
         * where every input already exists, so the node list is a topological order.
         */
        public Builder add(String nodeName, Layer layer, String... inputs) {
            InvalidArgumentException.check(nodeName != null && !nodeName.isBlank(), "name", "must not be blank");
            InvalidArgumentException.check(!INPUT.equals(nodeName), "name", INPUT + " names the network input");
            InvalidArgumentException.check(layer != null, "layer", "must not be null");
            InvalidArgumentException.check(inputs != null && inputs.length > 0, "inputs", "layer '" + nodeName
                    + "' needs at least one input");
            InvalidArgumentException.check(!names.contains(nodeName), "name", "'" + nodeName + "' is used twice");
            List<Integer> sizes = new ArrayList<>();
            for (String in : inputs) {
                sizes.add(sizeOf(in, nodeName));
            }
            int out;
            try {
                out = layer.outputSize(sizes);
            } catch (ShapeMismatchException e) {
                throw new ShapeMismatchException("layer '" + nodeName + "' input", e.expected(), e.actual());
            }
            names.add(nodeName);
            shapes.put(nodeName, outputShape(layer, List.of(inputs), out));
            int in = sizes.size() == 1 ? sizes.get(0) : sizes.stream().mapToInt(Integer::intValue).sum();
            List<String> ins = inputs.length == 1 && INPUT.equals(inputs[0]) ? List.of() : List.of(inputs);
            nodes.add(new Node(nodeName, layer, ins, in, out));
            return this;
        }

        /** Residual addition of the named nodes' outputs. */
        public Builder sum(String nodeName, String... inputs) {
            return add(nodeName, new Add(), inputs);
        }

        /** Concatenation of the named nodes' outputs. */
        public Builder concat(String nodeName, String... inputs) {
            return add(nodeName, new Concat(), inputs);
        }

        private int sizeOf(String input, String forNode) {
            if (INPUT.equals(input)) {
                return inputSize;
            }
            for (Node n : nodes) {
                if (n.name().equals(input)) {
                    return n.outputSize();
                }
            }
            throw new InvalidArgumentException("inputs", "layer '" + forNode + "' reads '" + input
                    + "', which is not an earlier node (known: " + names + ")");
        }

        /** The name of the most recently added node, for wiring branches. */
        public String last() {
            return nodes.isEmpty() ? INPUT : nodes.get(nodes.size() - 1).name();
        }

        /** Dense layer from a PyTorch-layout weight {@code [out*in]} and bias {@code [out]} (null for none). */
        public Builder dense(String nodeName, int out, float[] weight, float[] bias) {
            int in = nodes.isEmpty() ? inputSize : nodes.get(nodes.size() - 1).outputSize();
            return add(nodeName, new Dense(in, out, weight, bias));
        }

        /** A dense layer reading a named node's output. */
        public Builder dense(String nodeName, String input, int out, float[] weight, float[] bias) {
            return add(nodeName, new Dense(sizeOf(input, nodeName), out, weight, bias), input);
        }

        public Builder dense(String nodeName, float[][] weight, float[] bias) {
            return add(nodeName, Dense.of(weight, bias));
        }

        public Builder relu(String nodeName) {
            return add(nodeName, new Activation(Activation.Function.RELU));
        }

        public Builder sigmoid(String nodeName) {
            return add(nodeName, new Activation(Activation.Function.SIGMOID));
        }

        public Builder softmax(String nodeName) {
            return add(nodeName, new Activation(Activation.Function.SOFTMAX));
        }

        public Builder identity(String nodeName) {
            return add(nodeName, new Identity());
        }

        /** Marks the network as a token model whose samples pack its inputs as {@code tokens} says. */
        public Builder tokens(TokenInput tokens) {
            checkTokens(tokens, inputSize);
            this.tokens = tokens;
            return this;
        }

        public Network build() {
            if (nodes.isEmpty()) {
                throw new InvalidArgumentException("network", "has no layers");
            }
            return new Network(name, inputShape, nodes, tokens);
        }
    }
}
