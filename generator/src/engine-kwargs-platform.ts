/**
 * What the platform sets for a spec on one cluster, which vLLM checks owner engine arguments against: the
 * spec's gpus_per_replica (rendered as tensor_parallel_size) and the cluster's accelerator_type (from which
 * Ray Serve LLM picks vLLM's distributed_executor_backend).
 */
export interface PlatformSettings {
  /** The spec's gpus_per_replica; absent when that field is invalid (reported on its own). */
  readonly gpus_per_replica?: number;
  /** The spec leaves gpus_per_replica out: the platform renders its default, 1. */
  readonly gpus_per_replica_default?: boolean;
  /** The target cluster's name and accelerator_type; the type is absent when its cluster.yaml has errors. */
  readonly cluster?: string;
  readonly accelerator_type?: string;
}
