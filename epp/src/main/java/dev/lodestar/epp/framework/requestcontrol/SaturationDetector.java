package dev.lodestar.epp.framework.requestcontrol;

import dev.lodestar.epp.framework.plugin.Plugin;
import dev.lodestar.epp.framework.scheduling.Endpoint;

import java.util.List;

/** How full the pool is: 0 = idle, 1.0 or more = saturated (sheddable requests are refused). */
public interface SaturationDetector extends Plugin {
    double saturation(List<Endpoint> endpoints);
}
