package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.InitialRelevance;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.Network;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;
import org.gpulrp.testing.DelegatingBackend;
import org.junit.jupiter.api.Test;

/**
 * The production path does no per-call weight preparation: every convolution primitive an explanation runs, for
 * every rule family and on both the shortcut and the general paths, takes weights the engine prepared at build time
 * ({@code Backend.prepareConv}) for exactly that primitive, geometry and combination of weights.
 */
class PreparedWeightsUseTest {

    private record Prepared(Op op, ConvGeometry g, Buffer[] ws) {
        boolean of(Op op, ConvGeometry g, Buffer... ws) {
            if (this.op != op || !this.g.equals(g) || this.ws.length != ws.length) {
                return false;
            }
            for (int k = 0; k < ws.length; k++) {
                if (this.ws[k] != ws[k]) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Records the preparations and checks each conv call after the build against them. */
    private static final class Watching extends DelegatingBackend {
        final List<Prepared> prepared = new ArrayList<>();
        boolean built;
        int checked;

        Watching() {
            super(new CpuBackend(CpuBackend.Kernels.AUTO, 1));
        }

        @Override
        public void prepareConv(Op op, ConvGeometry g, Buffer... weights) {
            prepared.add(new Prepared(op, g, weights.clone()));
            super.prepareConv(op, g, weights);
        }

        private void check(Op op, ConvGeometry g, Buffer... ws) {
            if (!built) {
                return;
            }
            checked++;
            for (Prepared p : prepared) {
                if (p.of(op, g, ws)) {
                    return;
                }
            }
            fail(op + " on " + g + " with weights not prepared for it");
        }

        @Override
        public void conv(Buffer x, Buffer w, Buffer bias, Buffer z, int rows, ConvGeometry g) {
            check(Op.CONV, g, w);
            super.conv(x, w, bias, z, rows, g);
        }

        @Override
        public void convSigned(Buffer x, Buffer u, Buffer v, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN,
                               int rows, ConvGeometry g) {
            check(outN == null ? Op.CONV_SIGNED_P : Op.CONV_SIGNED, g, u, v);
            super.convSigned(x, u, v, biasP, biasN, outP, outN, rows, g);
        }

        @Override
        public void convZBox(Buffer x, Buffer w, Buffer low, Buffer high, Buffer d, int rows, ConvGeometry g) {
            check(Op.CONV_ZBOX, g, w);
            super.convZBox(x, w, low, high, d, rows, g);
        }

        @Override
        public void convBackproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, ConvGeometry geometry) {
            check(Op.CONV_BACKPROJECT, geometry, w);
            super.convBackproject(g, w, x, r, rows, geometry);
        }

        @Override
        public void convBackprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows,
                                          ConvGeometry g) {
            check(Op.CONV_BACKPROJECT_SIGNED, g, u, v);
            super.convBackprojectSigned(hp, hn, u, v, x, r, rows, g);
        }

        @Override
        public void convBackprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low,
                                        Buffer high, Buffer r, int rows, ConvGeometry geometry) {
            check(Op.CONV_BACKPROJECT_ZBOX, geometry, w, wpos, wneg);
            super.convBackprojectZBox(g, w, wpos, wneg, x, low, high, r, rows, geometry);
        }
    }

    @Test
    void everyConvCallTakesWeightsPreparedForIt() {
        Network n = PlusShortcutTest.net();
        int rows = 3;
        float[] x = PlusShortcutTest.randn(new SplittableRandom(9), rows * n.inputSize(), 1.0);
        Rule[] rules = {new Epsilon(), new ZPlus(), new AlphaBeta(1, 0), new AlphaBeta(2, 1), new Gamma(0.25f),
            new ZBox(-3f, 3f), new WSquare(), new Flat()};
        for (Rule rule : rules) {
            for (boolean shortcuts : new boolean[] {true, false}) {
                try (Watching be = new Watching();
                     Engine e = new Engine(be, n, Composite.uniform(rule), InitialRelevance.OUTPUT, rows, 1L << 24)) {
                    e.plusShortcuts(shortcuts);
                    be.built = true;
                    Engine.Batch out = new Engine.Batch(e, rows, false);
                    e.run(x, 0, rows, (o, rr, classes) -> new int[rr], out);
                    assertTrue(be.checked >= 4, rule.describe() + ": " + be.checked + " conv calls checked");
                }
            }
        }
    }
}
