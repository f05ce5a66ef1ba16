/* mia/version.h: the ABI version of the membership-inference audit plugin contract. */
#ifndef MIA_VERSION_H
#define MIA_VERSION_H

/** Major version: a plugin and a host must agree on it exactly. Bumped for any change that
 *  breaks an existing plugin (a field moved, a signature changed, a rule tightened). */
#define MIA_ABI_MAJOR 1
/** Minor version: bumped when fields are appended to a size-prefixed table or new optional
 *  extensions appear. A host accepts plugins of any minor version of its major. */
#define MIA_ABI_MINOR 1

#endif /* MIA_VERSION_H */
