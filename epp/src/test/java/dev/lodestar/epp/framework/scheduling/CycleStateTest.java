package dev.lodestar.epp.framework.scheduling;

import dev.lodestar.epp.framework.datalayer.AttributeKey;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CycleStateTest {
    private static final AttributeKey<Integer> MATCHED_BLOCKS = AttributeKey.of("prefix-matched-blocks", Integer.class);
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final AttributeKey<List<String>> HASHES = new AttributeKey("prefix-hashes", List.class);

    @Test
    void valuesAreReadBackByTheirKey() {
        CycleState state = new CycleState();

        state.write(MATCHED_BLOCKS, 12);
        state.write(HASHES, List.of("h1", "h2"));

        assertThat(state.read(MATCHED_BLOCKS)).contains(12);
        assertThat(state.read(HASHES)).contains(List.of("h1", "h2"));
    }

    @Test
    void anAbsentOrDeletedValueReadsAsEmpty() {
        CycleState state = new CycleState();
        assertThat(state.read(MATCHED_BLOCKS)).isEmpty();

        state.write(MATCHED_BLOCKS, 1);
        state.delete(MATCHED_BLOCKS);

        assertThat(state.read(MATCHED_BLOCKS)).isEmpty();
    }

    @Test
    void aWriteReplacesTheEarlierValue() {
        CycleState state = new CycleState();

        state.write(MATCHED_BLOCKS, 1);
        state.write(MATCHED_BLOCKS, 2);

        assertThat(state.read(MATCHED_BLOCKS)).contains(2);
    }

    @Test
    void keysAreMatchedByNameSoAPluginCanDeclareItsOwnCopy() {
        CycleState state = new CycleState();
        state.write(MATCHED_BLOCKS, 5);

        assertThat(state.read(AttributeKey.of("prefix-matched-blocks", Integer.class))).contains(5);
        assertThat(state.read(AttributeKey.of("other", Integer.class))).isEmpty();
    }

    @Test
    void readingWithTheWrongTypeFailsLoudly() {
        CycleState state = new CycleState();
        state.write(MATCHED_BLOCKS, 5);

        assertThatThrownBy(() -> state.read(AttributeKey.of("prefix-matched-blocks", String.class)))
                .isInstanceOf(ClassCastException.class);
    }

    @Test
    void aNullValueCannotBeWritten() {
        assertThatThrownBy(() -> new CycleState().write(MATCHED_BLOCKS, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void eachCycleHasItsOwnState() {
        CycleState first = new CycleState();
        first.write(MATCHED_BLOCKS, 3);

        assertThat(new CycleState().read(MATCHED_BLOCKS)).isEmpty();
    }
}
