package dev.stagefarm.oci.json;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/** Wire form of an OCI image manifest or a Docker schema2 manifest (same shape). */
@JsonPropertyOrder({"schemaVersion", "mediaType", "config", "layers", "annotations"})
final class ManifestTemplate {
    public Integer schemaVersion;
    public String mediaType;
    public DescriptorTemplate config;
    public List<DescriptorTemplate> layers;
    public Map<String, String> annotations;
    /** Present on schema1 manifests, which we reject with a clear message. */
    public List<Object> fsLayers;
}
