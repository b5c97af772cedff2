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
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;

/**
 * A layer list like {@code "fc1:linear,relu,fc2:linear,relu,fc3:linear,sigmoid"} bound to a state dict's tensors:
 * the Java side of PyTorch's {@code model.load_state_dict(torch.load(path))}.
 *
 * <p>Entries are {@code NAME:KIND} or just {@code KIND}. Kinds: {@code linear} (needs a name: its tensors are
 * {@code NAME.weight [out, in]} and optionally {@code NAME.bias [out]}), {@code relu}, {@code sigmoid}, {@code
 * softmax}, {@code identity}, {@code dropout} (an identity at inference). An unnamed activation is called after its
 * kind, numbered when the kind appears more than once ({@code relu1, relu2}).
 */
public final class Architecture {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]*");
    private static final Set<String> KINDS = Set.of("linear", "relu", "sigmoid", "softmax", "identity", "dropout");

    /** One entry of the spec. */
    private record Entry(String name, String kind) {
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
        String[] parts = spec.split(",", -1);
        List<String[]> raw = new ArrayList<>();
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
            InvalidArgumentException.check(KINDS.contains(kind), "arch", where + ": unknown layer kind '" + kind
                    + "'; known: linear, relu, sigmoid, softmax, identity, dropout");
            if (name != null) {
                InvalidArgumentException.check(NAME.matcher(name).matches(), "arch", where + ": bad name '" + name
                        + "'; use letters, digits, '_', '.' or '-'");
            }
            InvalidArgumentException.check(name != null || !kind.equals("linear"), "arch", where
                    + ": a linear layer needs a name, the prefix of its tensors (e.g. fc1:linear for fc1.weight)");
            raw.add(new String[] {name, kind});
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
        for (String[] r : raw) {
            String name = r[0];
            if (name == null) {
                int idx = seen.merge(r[1], 1, Integer::sum);
                name = kindCount.get(r[1]) > 1 ? r[1] + idx : r[1];
                while (!used.add(name)) {
                    name = name + "_";
                }
            }
            entries.add(new Entry(name, r[1]));
        }
        InvalidArgumentException.check(entries.stream().anyMatch(e -> e.kind.equals("linear")), "arch",
                "'" + spec + "' has no linear layer, so there is nothing to bind and no input size");
        return new Architecture(networkName, entries);
    }

    /** The article's SampleModel: {@code fc1:linear,relu,fc2:linear,relu,fc3:linear,sigmoid}. */
    public static Architecture sampleModel() {
        return parse("SampleModel", "fc1:linear,relu,fc2:linear,relu,fc3:linear,sigmoid");
    }

    /**
     * Builds the network from {@code NAME.weight [out, in]} and {@code NAME.bias [out]} (bias optional); the
     * network's input size is the first weight's {@code in}. Every tensor of the state dict must be used.
     *
     * @throws ModelFormatException   for a missing tensor (listing what the file has) or unused tensors
     * @throws ShapeMismatchException for a mis-shaped weight or bias, or linear layers whose sizes do not chain
     */
    public Network bind(StateDict weights) {
        InvalidArgumentException.check(weights != null, "weights", "must not be null");
        Map<String, Npy.Array> tensors = weights.tensors();
        Set<String> unused = new LinkedHashSet<>(tensors.keySet());
        Network.Builder b = null;
        int features = -1;
        String featuresFrom = null;
        List<Entry> pending = new ArrayList<>(); // activations before the first linear layer
        for (Entry e : entries) {
            if (!e.kind.equals("linear")) {
                if (b == null) {
                    pending.add(e);
                } else {
                    add(b, e);
                }
                continue;
            }
            Npy.Array w = tensor(weights, e.name + ".weight", e.name);
            unused.remove(e.name + ".weight");
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
            } else if (in != features) {
                throw new ShapeMismatchException(e.name + ".weight [out, in]", "in = " + features + " (the "
                        + "outputs of " + featuresFrom + ")", Arrays.toString(w.shape()));
            }
            float[] bias = null;
            Npy.Array bt = tensors.get(e.name + ".bias");
            if (bt != null) {
                unused.remove(e.name + ".bias");
                if (bt.shape().length != 1 || bt.shape()[0] != out) {
                    throw new ShapeMismatchException(e.name + ".bias", "[" + out + "]", Arrays.toString(bt.shape()));
                }
                bias = bt.data();
            }
            b.dense(e.name, out, w.data(), bias);
            features = out;
            featuresFrom = e.name;
        }
        if (!unused.isEmpty()) {
            throw new ModelFormatException(weights.file() + ": the state dict has tensors the architecture does not "
                    + "use: " + String.join(", ", unused) + "; add their layers to the architecture (" + this + ")");
        }
        return b.build();
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
        }
        return sb.toString();
    }
}
