/*
 * reply.c: command replies in the shapes drivers read: {ok: 1, ...}, and
 * for a failed command {ok: 0, errmsg, code, codeName}.
 */
#include "docd.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
	int code;
	const char *name;
} code_names[] = {
	{1, "InternalError"},        {2, "BadValue"},
	{8, "UnknownError"},         {9, "FailedToParse"},
	{13, "Unauthorized"},        {14, "TypeMismatch"},
	{20, "IllegalOperation"},    {26, "NamespaceNotFound"},
	{27, "IndexNotFound"},       {43, "CursorNotFound"},
	{48, "NamespaceExists"},     {50, "MaxTimeMSExpired"},
	{59, "CommandNotFound"},     {66, "ImmutableField"},
	{67, "CannotCreateIndex"},   {72, "InvalidOptions"},
	{73, "InvalidNamespace"},    {85, "IndexOptionsConflict"},
	{86, "IndexKeySpecsConflict"}, {91, "ShutdownInProgress"},
	{100, "UnsatisfiableWriteConcern"}, {112, "WriteConflict"},
	{115, "CommandNotSupported"}, {11000, "DuplicateKey"},
};

const char *reply_code_name(int code)
{
	for (size_t i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++)
		if (code_names[i].code == code)
			return code_names[i].name;
	return "UnknownError";
}

void reply_ok(bson_t *out)
{
	BSON_APPEND_DOUBLE(out, "ok", 1.0);
}

void reply_error(bson_t *out, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bson_reinit(out);
	BSON_APPEND_DOUBLE(out, "ok", 0.0);
	BSON_APPEND_UTF8(out, "errmsg", msg);
	BSON_APPEND_INT32(out, "code", code);
	BSON_APPEND_UTF8(out, "codeName", reply_code_name(code));
}
