package dev.stagefarm.oci.json;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/** Wire form of a descriptor (OCI image spec, descriptor.md). */
@JsonPropertyOrder({"mediaType", "digest", "size", "urls", "annotations", "platform"})
final class DescriptorTemplate {
    public String mediaType;
    public String digest;
    public Long size;
    public List<String> urls;
    public Map<String, String> annotations;
    public PlatformTemplate platform;

    @JsonPropertyOrder({"architecture", "os", "os.version", "os.features", "variant"})
    static final class PlatformTemplate {
        public String architecture;
        public String os;

        @JsonProperty("os.version")
        public String osVersion;

        @JsonProperty("os.features")
        public List<String> osFeatures;

        public String variant;
    }
}
