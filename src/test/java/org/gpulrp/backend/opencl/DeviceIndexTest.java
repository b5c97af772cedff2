package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.gpulrp.DeviceException;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;

/** Devices chosen by index ("#N"), in the order `gpulrp devices` lists them. */
class DeviceIndexTest {
    @Test
    void indexPicksTheListedDevice() {
        OpenClTestSupport.assumeOpenCl();
        List<DeviceDescription> all = OpenClBackend.listDevices();
        for (int k = 0; k < all.size(); k++) {
            try (OpenClBackend b = OpenClBackend.open("#" + k)) {
                assertEquals(all.get(k).name(), b.device().name());
            }
        }
        DeviceException e = assertThrows(DeviceException.class, () -> OpenClBackend.open("#" + all.size()));
        assertTrue(e.getMessage().contains("#" + all.size()) && e.getMessage().contains("there are " + all.size()),
                e.getMessage());
    }
}
