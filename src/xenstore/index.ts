/**
 * The in-memory xenstore (xenstored semantics, `xenstore-ls -f` output) and the static_shm records
 * the xl toolstack keeps in it.
 */

export { joinPath, splitPath, validatePath, XENSTORE_ABS_PATH_MAX, XENSTORE_PAYLOAD_MAX } from "./path.js";
export type {
  SshmBorrowerAddArgs,
  SshmBorrowerAddResult,
  SshmBorrowerRecord,
  SshmCachePolicy,
  SshmDelResult,
  SshmOwnerAddArgs,
  SshmProt,
  SshmRecord,
  SshmRole,
} from "./static-shm.js";
export {
  forkOwnerDomidReadback,
  SSHM_ID_MAXLEN,
  SSHM_NODE_PERMS,
  SSHM_ROOT,
  sshmBorrowerAdd,
  sshmBorrowerPath,
  sshmDel,
  sshmDelAll,
  sshmDomainDir,
  sshmIdPath,
  sshmList,
  sshmOwnerAdd,
  sshmRole,
  sshmRolePath,
} from "./static-shm.js";
export type { XenstoreLsOptions, XsAccess, XsEntry, XsPerm } from "./store.js";
export { parsePerm, permToString, ROOT_PERMS, sanitiseValue, XenStore, xenstoreLs } from "./store.js";
