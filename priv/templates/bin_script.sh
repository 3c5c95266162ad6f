#!/bin/sh
# placeholder @@REL_NAME@@ @@REL_VSN@@ @@ERTS_VSN@@
echo placeholder
