// Reads the golden fixtures written by scripts/make_golden.py: models, inputs, cases and expected relevances.
package org.gpulrp.golden;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.io.torch.Architecture;
import org.gpulrp.io.torch.StateDict;
import org.gpulrp.model.Network;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * The fixtures under {@code src/test/resources/golden/}: {@code models.txt} (one model per line: name, ONNX file,
 * state dict, architecture spec, inputs, torch's outputs) and {@code manifest.txt} (one case per line: model, rule or
 * composite in the CLI's syntax, initial relevance, target, expected input relevance). Regenerate them with
 * {@code /usr/bin/python3 scripts/make_golden.py}.
 */
final class GoldenFixtures {

    /** One model of the fixtures, loaded both ways. */
    record Model(String name, Path onnx, Path stateDict, String arch, Npy.Array inputs, Npy.Array torchOutputs) {
        Network fromOnnx() {
            return OnnxImporter.load(onnx);
        }

        Network fromStateDict() {
            return Architecture.parse(arch).bind(StateDict.read(stateDict));
        }
    }

    /** One expected explanation. */
    record Case(String model, String kind, String spec, String init, String target, String file) {
        @Override
        public String toString() {
            return model + " " + kind + " " + spec + " init=" + init + " target=" + target;
        }

        Composite composite() {
            return kind.equals("rule") ? Composite.uniform(rule(spec)) : preset(spec);
        }

        InitialRelevance initialRelevance() {
            return InitialRelevance.valueOf(init.toUpperCase(java.util.Locale.ROOT));
        }

        Target targetChoice() {
            return target.equals("argmax") ? Target.argmax() : Target.classIndex(Integer.parseInt(target));
        }

        Npy.Array expected() {
            return Npy.read(resource(file));
        }
    }

    /** Loaded on first use. */
    private static Map<String, Model> models;

    private GoldenFixtures() {
    }

    /** The fixture file at {@code golden/<relative>} on the test classpath. */
    static Path resource(String relative) {
        URL url = GoldenFixtures.class.getResource("/golden/" + relative);
        if (url == null) {
            throw new IllegalStateException("missing test resource golden/" + relative
                    + "; regenerate with /usr/bin/python3 scripts/make_golden.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Non-blank, non-comment lines split on whitespace, each checked to have {@code columns} fields. */
    static List<String[]> table(String name, int columns) {
        return table(resource(name), columns);
    }

    /**
     * The rows of a whitespace-separated table file (blank lines and {@code #} comments skipped), each of
     * {@code columns} fields.
     */
    static List<String[]> table(Path file, int columns) {
        List<String[]> rows = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                String[] f = t.split("\\s+");
                if (f.length != columns) {
                    throw new IllegalStateException(file.getFileName() + ": expected " + columns + " columns in: "
                            + line);
                }
                rows.add(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }

    /** Every model, in file order. */
    static synchronized Map<String, Model> models() {
        if (models == null) {
            Map<String, Model> m = new LinkedHashMap<>();
            for (String[] f : table("models.txt", 6)) {
                m.put(f[0], new Model(f[0], resource(f[1]), resource(f[2]), f[3], Npy.read(resource(f[4])),
                        Npy.read(resource(f[5]))));
            }
            models = Collections.unmodifiableMap(m);
        }
        return models;
    }

    static Model model(String name) {
        Model m = models().get(name);
        if (m == null) {
            throw new IllegalStateException("manifest names unknown model " + name);
        }
        return m;
    }

    /** Every case, in file order. */
    static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        for (String[] f : table("manifest.txt", 6)) {
            cs.add(new Case(f[0], f[1], f[2], f[3], f[4], f[5]));
        }
        return cs;
    }

    /** A rule from its CLI name ({@code epsilon[:eps]}, {@code alpha-beta:A,B}, {@code zbox:LOW,HIGH}, ...). */
    static Rule rule(String spec) {
        String[] p = spec.split(":", 2);
        float[] a = p.length == 2 ? numbers(p[1]) : new float[0];
        switch (p[0]) {
            case "epsilon":
                return a.length == 0 ? new Epsilon() : new Epsilon(a[0]);
            case "zplus":
                return new ZPlus();
            case "alpha-beta":
                return new AlphaBeta(a[0], a[1]);
            case "gamma":
                return a.length == 0 ? new Gamma() : new Gamma(a[0]);
            case "zbox":
                return new ZBox(a[0], a[1]);
            case "wsquare":
                return new WSquare();
            case "flat":
                return new Flat();
            default:
                throw new IllegalStateException("manifest names unknown rule " + spec);
        }
    }

    /** A preset from its CLI name. */
    static Composite preset(String spec) {
        String[] p = spec.split(":", 2);
        switch (p[0]) {
            case "epsilon-plus":
                return Composites.epsilonPlus();
            case "epsilon-alpha2-beta1":
                return Composites.epsilonAlpha2Beta1();
            case "epsilon-plus-flat":
                return Composites.epsilonPlusFlat();
            case "epsilon-alpha2-beta1-flat":
                return Composites.epsilonAlpha2Beta1Flat();
            case "epsilon-gamma-box": {
                float[] a = numbers(p[1]);
                return Composites.epsilonGammaBox(a[0], a[1]);
            }
            default:
                throw new IllegalStateException("manifest names unknown composite " + spec);
        }
    }

    private static float[] numbers(String csv) {
        String[] s = csv.split(",");
        float[] v = new float[s.length];
        for (int k = 0; k < s.length; k++) {
            v[k] = Float.parseFloat(s[k]);
        }
        return v;
    }
}
