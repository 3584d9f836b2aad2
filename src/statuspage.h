/*
 * statuspage.h - the operator's page served at GET / on the admin
 * endpoint: one HTML document with its CSS and script inline, which reads
 * /ring and /stats every two seconds. Nothing is fetched from elsewhere.
 */
#ifndef RP_STATUSPAGE_H
#define RP_STATUSPAGE_H

extern const char statuspage_html[];

#endif
