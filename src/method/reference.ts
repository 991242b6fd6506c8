/**
 * Building one entity's multi-modal reference from what the team posted about it: its photos, its
 * descriptions. Modalities stay separate (CLIP's image and text vectors sit in
 * different cones, so a mixed average would lean to one side). Pure.
 */
import { fuse, type FusionOptions } from './fusion.js';
import type { EntityReference } from './refine.js';

export interface ReferenceMaterial {
  entityId: number;
  images: readonly Float32Array[];
  texts: readonly Float32Array[];
}

export interface BuiltReference extends EntityReference {
  /** Fusion weight of each photo and description, in the material's order (for explanations). */
  imageWeights: number[];
  textWeights: number[];
}

export function buildReference(material: ReferenceMaterial, fusion: FusionOptions): BuiltReference {
  const image = fuse(material.images, fusion);
  const text = fuse(material.texts, fusion);
  return {
    entityId: material.entityId,
    image: image?.centre ?? null,
    text: text?.centre ?? null,
    imageWeights: image?.weights ?? [],
    textWeights: text?.weights ?? [],
  };
}
