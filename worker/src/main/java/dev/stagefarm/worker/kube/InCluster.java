package dev.stagefarm.worker.kube;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where this worker's own pod is and how to reach the API server from inside it: the pod's name
 * and namespace from the downward API ({@code POD_NAME}, {@code POD_NAMESPACE}), the API server
 * from the service environment the kubelet gives every pod, the service account's token and CA
 * from their standard mount.
 *
 * @param tokenFile read on every call: the kubelet rotates projected tokens in place
 */
public record InCluster(URI apiServer, String namespace, String pod, Path tokenFile, Path caFile) {

    /** Where the kubelet mounts a pod's service-account token, CA and namespace. */
    public static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    /** Thrown when the worker runs in a pod ({@code POD_NAME} is set) that lacks what a PATCH needs. */
    public static final class Incomplete extends Exception {
        Incomplete(String message) {
            super(message);
        }
    }

    /**
     * This pod, or empty when the process does not run in a pod (no {@code POD_NAME}: a worker on
     * a machine, in a test, in the embedded farm).
     *
     * @throws Incomplete in a pod without the namespace, the API server's address, or the token
     *     and CA: one sentence saying what the manifest must add
     */
    public static Optional<InCluster> detect(Map<String, String> env, Path serviceAccount) throws Incomplete {
        String pod = env.get("POD_NAME");
        if (pod == null || pod.isBlank()) {
            return Optional.empty();
        }
        String namespace = env.get("POD_NAMESPACE");
        if (namespace == null || namespace.isBlank()) {
            throw new Incomplete("POD_NAME is set but POD_NAMESPACE is not: give the worker's container"
                    + " POD_NAMESPACE from the downward API (fieldPath metadata.namespace)");
        }
        String host = env.get("KUBERNETES_SERVICE_HOST");
        String port = env.get("KUBERNETES_SERVICE_PORT");
        if (host == null || host.isBlank() || port == null || port.isBlank()) {
            throw new Incomplete("no KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT in the environment:"
                    + " the worker cannot find the API server (enableServiceLinks is not needed, the kubelet"
                    + " sets these two in every pod)");
        }
        Path token = serviceAccount.resolve("token");
        Path ca = serviceAccount.resolve("ca.crt");
        if (!Files.isReadable(token) || !Files.isReadable(ca)) {
            throw new Incomplete("no service-account token and CA in " + serviceAccount
                    + ": set automountServiceAccountToken: true on the worker's pod, with a Role that may"
                    + " patch pods (deploy/k8s/base/workers.yaml)");
        }
        // an IPv6 address needs brackets in a URI
        String authority = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
        return Optional.of(new InCluster(URI.create("https://" + authority), namespace, pod, token, ca));
    }
}
