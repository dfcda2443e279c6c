/* http.h: the whole lib/http module in one include for FastCGI programs:
 * requests, responses, the route table dispatcher and the serving loop. */
#ifndef MT_HTTP_HTTP_H
#define MT_HTTP_HTTP_H

#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"

#endif
