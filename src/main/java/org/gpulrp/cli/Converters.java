package org.gpulrp.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.gpulrp.BackendChoice;
import org.gpulrp.InitialRelevance;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.composite.Composite;
import org.gpulrp.rules.Rule;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** picocli converters for the option values that are names: a bad value is a usage error naming the choices. */
final class Converters {
    private Converters() {
    }

    /** The message without its leading "parameter: ", which picocli's own prefix already says. */
    static String withoutParameter(InvalidArgumentException e) {
        String m = e.getMessage();
        return m.startsWith(e.parameter() + ": ") ? m.substring(e.parameter().length() + 2) : m;
    }

    /**
     * An enum by its constant's name, any case: the error lists the valid names in declaration order, lower case.
     */
    abstract static class Named<E extends Enum<E>> implements ITypeConverter<E> {
        private final Class<E> type;
        private final String what;

        Named(Class<E> type, String what) {
            this.type = type;
            this.what = what;
        }

        @Override
        public E convert(String v) {
            StringBuilder valid = new StringBuilder();
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(v.strip())) {
                    return e;
                }
                valid.append(valid.length() == 0 ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
            }
            throw new TypeConversionException("unknown " + what + " '" + v + "'; valid: " + valid);
        }
    }

    /** {@code auto|cpu|opencl}. */
    static final class Backend extends Named<BackendChoice> {
        Backend() {
            super(BackendChoice.class, "backend");
        }
    }

    /** {@code output|onehot|logit}. */
    static final class Init extends Named<InitialRelevance> {
        Init() {
            super(InitialRelevance.class, "initial relevance");
        }
    }

    /** A rule spec, see {@link RuleSpecs#parseRule(String)}. */
    static final class RuleSpec implements ITypeConverter<RuleSpecs.Parsed<Rule>> {
        @Override
        public RuleSpecs.Parsed<Rule> convert(String v) {
            try {
                return RuleSpecs.parseRule(v);
            } catch (InvalidArgumentException e) {
                throw new TypeConversionException(withoutParameter(e));
            }
        }
    }

    /** A composite spec, see {@link RuleSpecs#parseComposite(String)}. */
    static final class CompositeSpec implements ITypeConverter<RuleSpecs.Parsed<Composite>> {
        @Override
        public RuleSpecs.Parsed<Composite> convert(String v) {
            try {
                return RuleSpecs.parseComposite(v);
            } catch (InvalidArgumentException e) {
                throw new TypeConversionException(withoutParameter(e));
            }
        }
    }

    /** A data file: {@code .npy} or {@code .csv}. */
    static final class DataFile implements ITypeConverter<Path> {
        @Override
        public Path convert(String v) {
            if (DataFiles.format(Path.of(v)) == null) {
                throw new TypeConversionException("'" + v + "' must end in .npy or .csv");
            }
            return Path.of(v);
        }
    }

    /** A positive count. */
    static final class Positive implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String v) {
            int n;
            try {
                n = Integer.parseInt(v.strip());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + v + "' is not a whole number");
            }
            if (n <= 0) {
                throw new TypeConversionException("must be > 0, got " + n);
            }
            return n;
        }
    }
}
