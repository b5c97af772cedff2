package org.gpulrp.io.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.canonize.Canonizers;
import org.gpulrp.io.Npy;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Network;

/**
 * A layer list like {@code "fc1:linear,relu,fc2:linear,relu,fc3:linear,sigmoid"} bound to a state dict's tensors:
 * the Java side of PyTorch's {@code model.load_state_dict(torch.load(path))}.
 *
 * <p>Entries are {@code NAME:KIND} or just {@code KIND}. Kinds: {@code linear} (needs a name: its tensors are
 * {@code NAME.weight [out, in]} and optionally {@code NAME.bias [out]}), {@code relu}, {@code sigmoid}, {@code
 * softmax}, {@code identity}, {@code dropout} (an identity at inference). An unnamed activation is called after its
 * kind, numbered when the kind appears more than once ({@code relu1, relu2}).
 *
 * <p>Convolutional networks add {@code NAME:conv2d(stride=S,padding=P,dilation=D,groups=G)} (every argument optional,
 * defaults 1, 0, 1, 1; kernel size and channels come from {@code NAME.weight [out, in/groups, kH, kW]}, bias {@code
 * NAME.bias} optional), {@code maxpool2d(K[,S])} and {@code avgpool2d(K[,S])} (stride defaults to K, no padding),
 * {@code globalavgpool}, {@code flatten} (NCHW order) and {@code NAME:batchnorm2d} ({@code NAME.weight, NAME.bias,
 * NAME.running_mean, NAME.running_var}, eps 1e-5; {@code NAME.num_batches_tracked} is accepted and ignored). A
 * convolutional network needs its input image shape: {@link #bind(StateDict, int...)} with {@code C, H, W}. Batch
 * norms right after a convolution or linear layer are folded into it ({@link Canonizers#foldBatchNorm}).
 * Example (the digits CNN): {@code conv1:conv2d(padding=1),relu,conv2:conv2d(padding=1),relu,maxpool2d(2),flatten,
 * fc1:linear,relu,fc2:linear} bound with input shape {@code 1, 8, 8}.
 */
public final class Architecture {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]*");
    private static final Set<String> KINDS = Set.of("linear", "relu", "sigmoid", "softmax", "identity", "dropout",
            "conv2d", "maxpool2d", "avgpool2d", "globalavgpool", "flatten", "batchnorm2d");
    private static final Set<String> WEIGHTED = Set.of("linear", "conv2d", "batchnorm2d");
    private static final String KNOWN = "linear, conv2d(stride=,padding=,dilation=,groups=), maxpool2d(K[,S]), "
            + "avgpool2d(K[,S]), globalavgpool, flatten, batchnorm2d, relu, sigmoid, softmax, identity, dropout";

    /** One entry of the spec; {@code args} holds conv2d's keyword or a pool's positional arguments. */
    private record Entry(String name, String kind, Map<String, Integer> args) {
    }

    private final String networkName;
    private final List<Entry> entries;

    private Architecture(String networkName, List<Entry> entries) {
        this.networkName = networkName;
        this.entries = List.copyOf(entries);
    }

    /**
     * Parses a spec such as {@code fc1:linear,relu,fc2:linear,sigmoid}.
     *
     * @throws InvalidArgumentException naming the bad entry and what is allowed
     */
    public static Architecture parse(String spec) {
        return parse("network", spec);
    }

    private static Architecture parse(String networkName, String spec) {
        InvalidArgumentException.check(spec != null && !spec.isBlank(), "arch",
                "is empty; give layers like fc1:linear,relu,fc2:linear");
        String[] parts = split(spec);
        List<String[]> raw = new ArrayList<>();
        List<Map<String, Integer>> rawArgs = new ArrayList<>();
        Map<String, Integer> kindCount = new HashMap<>();
        for (int k = 0; k < parts.length; k++) {
            String p = parts[k].trim();
            String where = "entry " + (k + 1) + " '" + p + "' of '" + spec + "'";
            InvalidArgumentException.check(!p.isEmpty(), "arch", "entry " + (k + 1) + " of '" + spec
                    + "' is empty");
            String[] nk = p.split(":", -1);
            InvalidArgumentException.check(nk.length <= 2, "arch", where + " has more than one ':'; use NAME:KIND");
            String name = nk.length == 2 ? nk[0].trim() : null;
            String kind = nk[nk.length - 1].trim().toLowerCase(Locale.ROOT);
            Map<String, Integer> args = Map.of();
            int open = kind.indexOf('(');
            if (open >= 0) {
                InvalidArgumentException.check(kind.endsWith(")"), "arch", where + ": missing ')'");
                String inside = kind.substring(open + 1, kind.length() - 1);
                kind = kind.substring(0, open).trim();
                args = args(kind, inside, where);
            }
            InvalidArgumentException.check(KINDS.contains(kind), "arch", where + ": unknown layer kind '" + kind
                    + "'; known: " + KNOWN);
            InvalidArgumentException.check(!kind.startsWith("maxpool") && !kind.startsWith("avgpool")
                    || args.containsKey("kernel"), "arch", where + ": give the window size, e.g. " + kind + "(2)");
            if (name != null) {
                InvalidArgumentException.check(NAME.matcher(name).matches(), "arch", where + ": bad name '" + name
                        + "'; use letters, digits, '_', '.' or '-'");
            }
            InvalidArgumentException.check(name != null || !WEIGHTED.contains(kind), "arch", where
                    + ": a " + kind + " layer needs a name, the prefix of its tensors (e.g. fc1:linear for fc1.weight)");
            raw.add(new String[] {name, kind});
            rawArgs.add(args);
            if (name == null) {
                kindCount.merge(kind, 1, Integer::sum);
            }
        }
        Set<String> used = new HashSet<>();
        for (String[] r : raw) {
            if (r[0] != null) {
                InvalidArgumentException.check(used.add(r[0]), "arch", "the name '" + r[0] + "' appears twice in '"
                        + spec + "'");
            }
        }
        List<Entry> entries = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int k = 0; k < raw.size(); k++) {
            String[] r = raw.get(k);
            String name = r[0];
            if (name == null) {
                int idx = seen.merge(r[1], 1, Integer::sum);
                name = kindCount.get(r[1]) > 1 ? r[1] + idx : r[1];
                while (!used.add(name)) {
                    name = name + "_";
                }
            }
            entries.add(new Entry(name, r[1], rawArgs.get(k)));
        }
        InvalidArgumentException.check(entries.stream().anyMatch(e -> e.kind.equals("linear")
                        || e.kind.equals("conv2d")), "arch",
                "'" + spec + "' has no linear layer (or conv2d), so there is nothing to bind");
        return new Architecture(networkName, entries);
    }

    /** Splits the spec at commas outside parentheses. */
    private static String[] split(String spec) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
                InvalidArgumentException.check(depth >= 0, "arch", "unbalanced ')' in '" + spec + "'");
            } else if (c == ',' && depth == 0) {
                parts.add(spec.substring(start, i));
                start = i + 1;
            }
        }
        InvalidArgumentException.check(depth == 0, "arch", "unbalanced '(' in '" + spec + "'");
        parts.add(spec.substring(start));
        return parts.toArray(new String[0]);
    }

    /** Parses {@code stride=2,padding=1} (conv2d) or {@code 2[,2]} (pools) into named values. */
    private static Map<String, Integer> args(String kind, String inside, String where) {
        Map<String, Integer> out = new HashMap<>();
        if (inside.isBlank()) {
            return out;
        }
        String[] items = inside.split(",", -1);
        for (int i = 0; i < items.length; i++) {
            String item = items[i].trim();
            String key;
            String value;
            if (kind.equals("conv2d")) {
                String[] kv = item.split("=", -1);
                InvalidArgumentException.check(kv.length == 2, "arch", where + ": conv2d takes key=value arguments "
                        + "(stride, padding, dilation, groups), got '" + item + "'");
                key = kv[0].trim();
                value = kv[1].trim();
                InvalidArgumentException.check(Set.of("stride", "padding", "dilation", "groups").contains(key),
                        "arch", where + ": unknown conv2d argument '" + key + "'; known: stride, padding, dilation, "
                                + "groups");
            } else if (kind.equals("maxpool2d") || kind.equals("avgpool2d")) {
                InvalidArgumentException.check(items.length <= 2, "arch", where + ": " + kind + " takes (K) or (K, S)");
                key = i == 0 ? "kernel" : "stride";
                value = item;
            } else {
                throw new InvalidArgumentException("arch", where + ": " + kind + " takes no arguments");
            }
            int v;
            try {
                v = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("arch", where + ": '" + value + "' is not a whole number");
            }
            InvalidArgumentException.check(v >= (key.equals("padding") ? 0 : 1), "arch", where + ": " + key + "="
                    + v + " is out of range");
            InvalidArgumentException.check(out.put(key, v) == null, "arch", where + ": " + key + " given twice");
        }
        return out;
    }

    /** The article's SampleModel: {@code fc1:linear,relu,fc2:linear,relu,fc3:linear,sigmoid}. */
    public static Architecture sampleModel() {
        return parse("SampleModel", "fc1:linear,relu,fc2:linear,relu,fc3:linear,sigmoid");
    }

    /**
     * Builds the network from {@code NAME.weight [out, in]} and {@code NAME.bias [out]} (bias optional); the
     * network's input size is the first weight's {@code in}. Every tensor of the state dict must be used. Networks
     * with convolutions need {@link #bind(StateDict, int...)}.
     *
     * @throws ModelFormatException   for a missing tensor (listing what the file has), unused tensors, or a NaN or
     *                                infinite value
     * @throws ShapeMismatchException for a mis-shaped weight or bias, or linear layers whose sizes do not chain
     */
    public Network bind(StateDict weights) {
        return bind(weights, new int[0]);
    }

    /**
     * Builds the network for inputs of the given per-sample shape: {@code C, H, W} for an image network, {@code F}
     * or nothing (taken from the first linear weight) for a dense one. Batch norms after a linear layer or
     * convolution are folded into it.
     *
     * @throws ModelFormatException   for a missing tensor (listing what the file has), unused tensors, or a value
     *                                no layer can use (NaN or infinite, a negative variance)
     * @throws ShapeMismatchException for mis-shaped tensors or layers whose sizes do not chain
     */
    public Network bind(StateDict weights, int... inputShape) {
        InvalidArgumentException.check(weights != null, "weights", "must not be null");
        InvalidArgumentException.check(inputShape != null && (inputShape.length == 0 || inputShape.length == 1
                || inputShape.length == 3), "inputShape", "give C, H, W for images, F for features, or nothing");
        Map<String, Npy.Array> tensors = weights.tensors();
        Set<String> unused = new LinkedHashSet<>(tensors.keySet());
        Network.Builder b = inputShape.length == 3 ? Network.builder(networkName, inputShape[0], inputShape[1],
                inputShape[2]) : inputShape.length == 1 ? Network.builder(networkName, inputShape[0]) : null;
        List<Entry> pending = new ArrayList<>(); // activations before the first linear layer when no shape is given
        String from = Network.INPUT; // the last weighted layer, for messages
        for (Entry e : entries) {
            try {
                if (!WEIGHTED.contains(e.kind)) {
                    if (b == null) {
                        InvalidArgumentException.check(!Set.of("maxpool2d", "avgpool2d", "globalavgpool", "flatten")
                                .contains(e.kind), "inputShape", "layer '" + e.name + "' (" + e.kind + ") works on "
                                + "images; bind with the input shape C, H, W");
                        pending.add(e);
                    } else {
                        add(b, e);
                    }
                    continue;
                }
                Npy.Array w = tensor(weights, e.name + ".weight", e.name);
                unused.remove(e.name + ".weight");
                if (e.kind.equals("batchnorm2d")) {
                    InvalidArgumentException.check(b != null, "arch", "batch norm '" + e.name + "' comes before any "
                            + "layer that tells the input shape; bind with the input shape");
                    batchNorm(b, e, weights, unused);
                    from = e.name;
                    continue;
                }
                if (e.kind.equals("conv2d")) {
                    InvalidArgumentException.check(b != null, "inputShape", "conv2d layer '" + e.name + "' needs the "
                            + "input image shape; use bind(weights, C, H, W)");
                    conv(b, e, w, bias(tensors, unused, e.name, w.shape()[0]));
                    from = e.name;
                    continue;
                }
                if (w.shape().length != 2 || w.shape()[0] < 1 || w.shape()[1] < 1) {
                    throw new ShapeMismatchException(e.name + ".weight", "[out, in] with both > 0",
                            Arrays.toString(w.shape()));
                }
                int out = w.shape()[0];
                int in = w.shape()[1];
                if (b == null) {
                    b = Network.builder(networkName, in);
                    for (Entry p : pending) {
                        add(b, p);
                    }
                } else {
                    int[] s = b.shapeOf(b.last());
                    int features = s.length == 1 ? s[0] : -1;
                    if (in != features) {
                        throw new ShapeMismatchException(e.name + ".weight [out, in]", "in = " + (features > 0
                                ? features : "the flattened size (add flatten before it)") + " (the outputs of " + from
                                + (s.length == 1 ? "" : ", shape " + Arrays.toString(s)) + ")",
                                Arrays.toString(w.shape()));
                    }
                }
                b.dense(e.name, out, w.data(), bias(tensors, unused, e.name, out));
                from = e.name;
            } catch (InvalidInputException x) {
                // a NaN or infinite weight, a negative variance: the file's values, not the caller's input
                throw new ModelFormatException(weights.file() + ": layer '" + e.name + "' (" + e.kind + "): "
                        + x.getMessage() + "; the state dict holds a value no layer can use", x);
            }
        }
        if (!unused.isEmpty()) {
            throw new ModelFormatException(weights.file() + ": the state dict has tensors the architecture does not "
                    + "use: " + String.join(", ", unused) + "; add their layers to the architecture (" + this + ")");
        }
        return Canonizers.foldBatchNorm(b.build());
    }

    private static float[] bias(Map<String, Npy.Array> tensors, Set<String> unused, String name, int out) {
        Npy.Array bt = tensors.get(name + ".bias");
        if (bt == null) {
            return null;
        }
        unused.remove(name + ".bias");
        if (bt.shape().length != 1 || bt.shape()[0] != out) {
            throw new ShapeMismatchException(name + ".bias", "[" + out + "]", Arrays.toString(bt.shape()));
        }
        return bt.data();
    }

    private static void conv(Network.Builder b, Entry e, Npy.Array w, float[] bias) {
        int[] d = w.shape();
        if (d.length != 4 || d[0] < 1 || d[1] < 1 || d[2] < 1 || d[3] < 1) {
            throw new ShapeMismatchException(e.name + ".weight", "[out, in/groups, kH, kW]", Arrays.toString(d));
        }
        int[] s = b.shapeOf(b.last());
        if (s.length != 3) {
            throw new ShapeMismatchException("input of conv2d '" + e.name + "'", "an image [C, H, W]",
                    Arrays.toString(s) + " (put conv2d layers before flatten)");
        }
        int groups = e.args.getOrDefault("groups", 1);
        if (d[1] * groups != s[0]) {
            throw new ShapeMismatchException(e.name + ".weight [out, in/groups, kH, kW]", "in/groups = " + s[0] + "/"
                    + groups + " (the channels of " + b.last() + ")", Arrays.toString(d));
        }
        int stride = e.args.getOrDefault("stride", 1);
        int padding = e.args.getOrDefault("padding", 0);
        int dilation = e.args.getOrDefault("dilation", 1);
        b.add(e.name, new Conv2d(new ConvGeometry(s[0], s[1], s[2], d[0], d[2], d[3], stride, stride, padding,
                padding, dilation, dilation, groups), w.data(), bias));
    }

    private static void batchNorm(Network.Builder b, Entry e, StateDict weights, Set<String> unused) {
        int[] s = b.shapeOf(b.last());
        float[][] p = new float[4][];
        String[] suffix = {".weight", ".bias", ".running_mean", ".running_var"};
        for (int i = 0; i < 4; i++) {
            Npy.Array a = tensor(weights, e.name + suffix[i], e.name);
            unused.remove(e.name + suffix[i]);
            if (a.shape().length != 1 || a.shape()[0] != s[0]) {
                throw new ShapeMismatchException(e.name + suffix[i], "[" + s[0] + "] (the channels of " + b.last()
                        + ")", Arrays.toString(a.shape()));
            }
            p[i] = a.data();
        }
        unused.remove(e.name + ".num_batches_tracked");
        b.add(e.name, new BatchNorm(s[0], s.length == 3 ? s[1] : 1, s.length == 3 ? s[2] : 1, p[0], p[1], p[2], p[3],
                1e-5));
    }

    private static Npy.Array tensor(StateDict weights, String name, String layer) {
        Npy.Array a = weights.tensors().get(name);
        if (a == null) {
            throw new ModelFormatException(weights.file() + ": linear layer '" + layer + "' needs tensor '" + name
                    + "', which is missing; the file has: " + String.join(", ", weights.tensors().keySet()));
        }
        return a;
    }

    private static void add(Network.Builder b, Entry e) {
        switch (e.kind) {
            case "maxpool2d" -> b.maxPool2d(e.name, e.args.get("kernel"), e.args.getOrDefault("stride",
                    e.args.get("kernel")));
            case "avgpool2d" -> b.avgPool2d(e.name, e.args.get("kernel"), e.args.getOrDefault("stride",
                    e.args.get("kernel")));
            case "globalavgpool" -> b.globalAvgPool(e.name);
            case "flatten" -> b.flatten(e.name);
            case "relu" -> b.relu(e.name);
            case "sigmoid" -> b.sigmoid(e.name);
            case "softmax" -> b.softmax(e.name);
            default -> b.identity(e.name); // identity, dropout (inference)
        }
    }

    /** The layer names in order, e.g. {@code [fc1, relu1, fc2, relu2, fc3, sigmoid]}. */
    public List<String> layerNames() {
        return entries.stream().map(Entry::name).toList();
    }

    /** The spec with every name filled in, e.g. {@code fc1:linear,relu1:relu,...}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            sb.append(sb.length() == 0 ? "" : ",").append(e.name).append(':').append(e.kind);
            if (!e.args.isEmpty()) {
                List<String> a = new ArrayList<>();
                if (e.kind.equals("conv2d")) {
                    for (String k : List.of("stride", "padding", "dilation", "groups")) {
                        if (e.args.containsKey(k)) {
                            a.add(k + "=" + e.args.get(k));
                        }
                    }
                } else {
                    a.add(String.valueOf(e.args.get("kernel")));
                    if (e.args.containsKey("stride")) {
                        a.add(String.valueOf(e.args.get("stride")));
                    }
                }
                sb.append('(').append(String.join(",", a)).append(')');
            }
        }
        return sb.toString();
    }
}
