package dev.lodestar.kvconnector.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class NotificationTest {

    @Test
    void roundTripsAndTheLastColonSeparatesTheCount() {
        assertThat(new String(new Notification("cmpl-1", 2).encode(), StandardCharsets.UTF_8)).isEqualTo("cmpl-1:2");
        assertThat(Notification.decode("a:b:c:3".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(new Notification("a:b:c", 3));
    }

    @Test
    void rejectsMalformedMessages() {
        for (String bad : new String[] {"", "no-colon", ":1", "id:", "id:x", "id:0"}) {
            assertThatThrownBy(() -> Notification.decode(bad.getBytes(StandardCharsets.UTF_8)))
                    .as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
