//! `GET /openapi.json`: the OpenAPI 3 description of every endpoint, written by hand.
//!
//! Owns only this document; `GET /openapi.json` adds the served scripts' names to it. The schemathesis run (`tests/serve/run_schemathesis.sh`) checks
//! the server against it: no 5xx, and every status, header and body as documented.

/// The document, served as is.
pub const DOCUMENT: &str = r##"{
  "openapi": "3.0.3",
  "info": {
    "title": "kiln serve",
    "version": "0.1.0",
    "description": "Renders the Rhai scripts of one folder to images. Errors are JSON { error, kind, location }."
  },
  "components": {
    "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
    "schemas": {
      "Error": {
        "type": "object",
        "required": ["error", "kind", "location"],
        "properties": {
          "error": { "type": "string" },
          "kind": { "type": "string" },
          "location": { "type": "string", "nullable": true }
        }
      },
      "RenderRequest": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "params": {
            "type": "object",
            "description": "Values for the script's param() declarations (GET /scripts lists them).",
            "additionalProperties": { "oneOf": [ { "type": "number" }, { "type": "string" }, { "type": "boolean" } ] }
          },
          "seed": { "type": "integer", "format": "int64", "default": 0 },
          "format": {
            "type": "string",
            "enum": ["png", "jpg", "jpeg", "webp", "tiff", "tif", "exr", "qoi", "bmp"],
            "default": "png"
          },
          "width": { "type": "integer", "minimum": 1, "maximum": 2048, "description": "Resize the result to this width." }
        }
      },
      "Param": {
        "type": "object",
        "required": ["name", "type", "default"],
        "properties": {
          "name": { "type": "string" },
          "type": { "type": "string", "enum": ["int", "float", "bool", "color", "text"] },
          "default": { "type": "string" },
          "min": { "type": "number", "nullable": true },
          "max": { "type": "number", "nullable": true },
          "step": { "type": "number", "nullable": true }
        }
      }
    },
    "responses": {
      "BadRequest": { "description": "Malformed body, unknown key or param, wrong param type or range.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Unauthorized": { "description": "A bearer token is required.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "NotFound": { "description": "No such script or endpoint.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "TooLarge": { "description": "Request body or rendered image over a limit.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "ScriptError": { "description": "The script failed (compile, runtime, timeout).", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Busy": {
        "description": "Too many renders in flight.",
        "headers": { "Retry-After": { "schema": { "type": "integer" } } },
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
      }
    }
  },
  "security": [ { "bearer": [] } ],
  "paths": {
    "/render/{script}": {
      "post": {
        "operationId": "render",
        "summary": "Render a script to an image.",
        "parameters": [
          { "name": "script", "in": "path", "required": true, "schema": { "type": "string" }, "example": "material", "description": "A *.rhai file of the served folder, with or without the extension." },
          { "name": "If-None-Match", "in": "header", "required": false, "schema": { "type": "string" } }
        ],
        "requestBody": { "required": false, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RenderRequest" } } } },
        "responses": {
          "200": {
            "description": "The image, in the requested format.",
            "headers": {
              "ETag": { "schema": { "type": "string" } },
              "X-Kiln-Cache": { "schema": { "type": "string", "enum": ["hit", "miss"] } }
            },
            "content": {
              "image/png": { "schema": { "type": "string", "format": "binary" } },
              "image/jpeg": { "schema": { "type": "string", "format": "binary" } },
              "image/webp": { "schema": { "type": "string", "format": "binary" } },
              "image/tiff": { "schema": { "type": "string", "format": "binary" } },
              "image/x-exr": { "schema": { "type": "string", "format": "binary" } },
              "image/qoi": { "schema": { "type": "string", "format": "binary" } },
              "image/bmp": { "schema": { "type": "string", "format": "binary" } }
            }
          },
          "304": { "description": "Not modified: If-None-Match names the current ETag." },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/NotFound" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "422": { "$ref": "#/components/responses/ScriptError" },
          "429": { "$ref": "#/components/responses/Busy" },
          "503": { "description": "The render was cancelled (the server is stopping).", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
        }
      }
    },
    "/scripts": {
      "get": {
        "operationId": "scripts",
        "summary": "The served scripts and their param() declarations.",
        "responses": {
          "200": {
            "description": "Every *.rhai file of the served folder.",
            "content": { "application/json": { "schema": {
              "type": "object",
              "required": ["scripts"],
              "properties": { "scripts": { "type": "array", "items": {
                "type": "object",
                "required": ["name", "hash", "params"],
                "properties": {
                  "name": { "type": "string" },
                  "hash": { "type": "string" },
                  "params": { "type": "array", "items": { "$ref": "#/components/schemas/Param" } },
                  "error": { "nullable": true, "allOf": [ { "$ref": "#/components/schemas/Error" } ] }
                }
              } } }
            } } }
          },
          "401": { "$ref": "#/components/responses/Unauthorized" }
        }
      }
    },
    "/models": {
      "get": {
        "operationId": "models",
        "summary": "The shipped std/ models and the *.safetensors files of the served folder.",
        "responses": {
          "200": {
            "description": "Model names for load_model().",
            "content": { "application/json": { "schema": {
              "type": "object",
              "required": ["models"],
              "properties": { "models": { "type": "array", "items": {
                "type": "object",
                "required": ["name", "source"],
                "properties": { "name": { "type": "string" }, "source": { "type": "string", "enum": ["std", "dir"] } }
              } } }
            } } }
          },
          "401": { "$ref": "#/components/responses/Unauthorized" }
        }
      }
    },
    "/health": {
      "get": {
        "operationId": "health",
        "summary": "Liveness and counters; needs no token.",
        "security": [],
        "responses": {
          "200": {
            "description": "The server is up.",
            "content": { "application/json": { "schema": {
              "type": "object",
              "required": ["status", "version", "running", "queued", "renders", "cache_hits", "cancelled"],
              "properties": {
                "status": { "type": "string", "enum": ["ok"] },
                "version": { "type": "string" },
                "running": { "type": "integer" },
                "queued": { "type": "integer" },
                "renders": { "type": "integer" },
                "cache_hits": { "type": "integer" },
                "cancelled": { "type": "integer" },
                "timeouts": { "type": "integer" },
                "failed": { "type": "integer" },
                "corrupt_entries": { "type": "integer" },
                "memory_budget": { "type": "integer" },
                "memory_in_use": { "type": "integer" },
                "resident_bytes": { "type": "integer", "nullable": true }
              }
            } } }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document.",
        "responses": {
          "200": { "description": "OpenAPI 3.", "content": { "application/json": { "schema": { "type": "object" } } } },
          "401": { "$ref": "#/components/responses/Unauthorized" }
        }
      }
    }
  }
}
"##;
