/*
 * template_extensions.h — the template's vendor extension ops (plinth/abi.h, since 1.1).
 *
 * A vendor ships a header like this one beside its plugin: the names, versions and params structs
 * of its extension ops, for the applications that ask for them by name. Plinth certifies none of it;
 * the semantics below are the vendor's promise.
 */
#ifndef PLINTH_TEMPLATE_EXTENSIONS_H_
#define PLINTH_TEMPLATE_EXTENSIONS_H_

#include <stdint.h>

/*
 * template.scaled_add, version 1: y = a + alpha * b in one pass (the catalogue path is SCALE then
 * ADD). Inputs a and b, output y: f32, all of one shape (up to leading 1s). Params are required.
 * y may alias a or b exactly.
 */
#define TEMPLATE_SCALED_ADD_NAME "template.scaled_add"
#define TEMPLATE_SCALED_ADD_VERSION 1

typedef struct template_scaled_add_params {
  uint32_t struct_size; /* sizeof(template_scaled_add_params_t) as the caller compiled it */
  uint32_t reserved0;   /* zero */
  const void* next;     /* NULL */
  float alpha;          /* multiplier of b */
  uint32_t reserved1;   /* zero */
} template_scaled_add_params_t;

#endif /* PLINTH_TEMPLATE_EXTENSIONS_H_ */
